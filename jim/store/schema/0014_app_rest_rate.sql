-- An app's own REST rate (docs/storage.md, "Apps"): calls a minute, 0 for none, NULL for the
-- server's --rest-rate.

ALTER TABLE apps ADD COLUMN rest_rate INTEGER;
