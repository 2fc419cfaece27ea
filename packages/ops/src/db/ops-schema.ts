import type pg from "pg";
import { OpsError } from "../errors.ts";

/**
 * The `ops` schema: the deploy lock, the deploy history and the secret fingerprint ledger, kept in the target database so every
 * deployer sees them. Created idempotently; not a postgres-migrations migration, so the app's
 * schema version counts only the app's own migrations. No table here may be named `migrations`
 * (postgres-migrations looks for that name in every schema).
 */
export const OPS_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.deploy_lock (
  environment text PRIMARY KEY,
  token text NOT NULL,
  run_id text NOT NULL,
  holder_user text NOT NULL,
  holder_host text NOT NULL,
  git_sha text NOT NULL,
  purpose text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.deploy_history (
  run_id text PRIMARY KEY,
  environment text NOT NULL,
  target text NOT NULL,
  kind text NOT NULL DEFAULT 'deploy',
  status text NOT NULL,
  actor text NOT NULL,
  host text NOT NULL,
  git_sha text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  releases jsonb NOT NULL DEFAULT '{}'::jsonb,
  migrations_applied jsonb NOT NULL DEFAULT '[]'::jsonb,
  durations_ms jsonb NOT NULL DEFAULT '{}'::jsonb,
  restore_point text,
  error text
);
CREATE TABLE IF NOT EXISTS ops.secret_ledger (
  environment text NOT NULL,
  app text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  fly_digest text,
  pushed_at timestamptz NOT NULL DEFAULT now(),
  run_id text NOT NULL,
  PRIMARY KEY (environment, app, key)
);
CREATE TABLE IF NOT EXISTS ops.settings (
  name text PRIMARY KEY,
  value text NOT NULL
);
ALTER TABLE ops.deploy_lock ADD COLUMN IF NOT EXISTS holder_pid integer;
ALTER TABLE ops.deploy_lock ADD COLUMN IF NOT EXISTS holder_pid_start text;
ALTER TABLE ops.deploy_history ADD COLUMN IF NOT EXISTS timeline jsonb NOT NULL DEFAULT '[]'::jsonb;
CREATE INDEX IF NOT EXISTS deploy_history_env_started ON ops.deploy_history (environment, started_at DESC);
`;

/** A fixed key so concurrent first runs do not race on CREATE SCHEMA. */
const BOOTSTRAP_LOCK = 7_310_425_001;

/**
 * Creates the `ops` schema and its tables if they are missing.
 * @throws {OpsError} when the database role may not create them (the fix names the grant).
 */
export async function ensureOpsSchema(client: pg.Client): Promise<void> {
  await client.query("SELECT pg_advisory_lock($1)", [BOOTSTRAP_LOCK]);
  try {
    await client.query(OPS_SCHEMA_SQL);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "42501") {
      throw new OpsError("E_CONFIG", `the database role may not create the ops schema (lock, history): ${e.message}`, {
        fix: "Connect as the database owner (Neon: the role that owns the database), or have it run: CREATE SCHEMA ops AUTHORIZATION <your role>;",
      });
    }
    throw err;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [BOOTSTRAP_LOCK]);
  }
}

/** Whether every table of the `ops` schema exists (read-only; dry runs use this instead of creating it). */
export async function opsSchemaPresent(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'ops' AND tablename = ANY($1)", [
    ["deploy_lock", "deploy_history", "secret_ledger", "settings"],
  ]);
  return rows[0]?.n === 4;
}
