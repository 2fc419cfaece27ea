-- The backend's own tables live in the `app` schema; postgres-migrations keeps its bookkeeping
-- table `migrations` in `public`.
CREATE SCHEMA IF NOT EXISTS app;

CREATE TABLE IF NOT EXISTS app.release_starts (
  release_id text PRIMARY KEY,
  first_started_at timestamptz NOT NULL DEFAULT now(),
  last_started_at timestamptz NOT NULL DEFAULT now(),
  start_count bigint NOT NULL DEFAULT 1
);
