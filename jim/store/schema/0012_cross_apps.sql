-- The apps whose users an app's users may chat with (docs/storage.md, "Apps"): a JSON array
-- of app keys, sorted; '[]': none.

ALTER TABLE apps ADD COLUMN cross_apps TEXT NOT NULL DEFAULT '[]';
