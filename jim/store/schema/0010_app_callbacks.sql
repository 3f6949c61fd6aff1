-- An app's callback URL (docs/storage.md, "Apps"): where jim POSTs the app's messages and its
-- users' online and offline changes; NULL: none.

ALTER TABLE apps ADD COLUMN callback_url TEXT;
