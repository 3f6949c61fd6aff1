-- An app's master secret, sealed with the server's key (docs/storage.md, "Apps"), for the Web
-- SDK's signatures; NULL for a secret set before jim kept it (rotating it fills it in).

ALTER TABLE apps ADD COLUMN secret_box TEXT;
