-- Which host last started a release, so status can tell machines apart.
ALTER TABLE app.release_starts ADD COLUMN IF NOT EXISTS last_host text NOT NULL DEFAULT '';
