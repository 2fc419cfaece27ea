import { createHash, randomBytes } from "node:crypto";
import type { Secret } from "../secrets/secret.ts";
import type pg from "pg";

/** One ledger row: what this tool last pushed for a key (as a keyed fingerprint) and the digest Fly reported then. */
export interface LedgerRow {
  key: string;
  fingerprint: string;
  flyDigest: string | null;
  pushedAt: Date;
  runId: string;
}

/**
 * The HMAC key of the fingerprint ledger: derived from `override` (`OPS_LEDGER_KEY`, a secret
 * every deployer has) when given, so someone who can read the database cannot brute-force
 * fingerprints; otherwise kept in `ops.settings`, created once with 32 random bytes.
 */
export async function ledgerKey(client: pg.Client, override?: Secret): Promise<Buffer> {
  if (override) return createHash("sha256").update(`deploy-ops ledger\0${override.reveal()}`).digest();
  await client.query("INSERT INTO ops.settings (name, value) VALUES ('secret_ledger_key', $1) ON CONFLICT (name) DO NOTHING", [
    randomBytes(32).toString("hex"),
  ]);
  const { rows } = await client.query("SELECT value FROM ops.settings WHERE name = 'secret_ledger_key'");
  return Buffer.from(String(rows[0].value), "hex");
}

export async function readLedger(client: pg.Client, environment: string, app: string): Promise<Map<string, LedgerRow>> {
  const { rows } = await client.query("SELECT * FROM ops.secret_ledger WHERE environment = $1 AND app = $2", [environment, app]);
  return new Map(
    rows.map((r) => [
      r.key as string,
      { key: r.key, fingerprint: r.fingerprint, flyDigest: r.fly_digest, pushedAt: new Date(r.pushed_at), runId: r.run_id },
    ]),
  );
}

export async function recordPushed(
  client: pg.Client,
  environment: string,
  app: string,
  runId: string,
  rows: { key: string; fingerprint: string; flyDigest: string | null }[],
): Promise<void> {
  for (const r of rows) {
    await client.query(
      `INSERT INTO ops.secret_ledger (environment, app, key, fingerprint, fly_digest, pushed_at, run_id) VALUES ($1,$2,$3,$4,$5,now(),$6)
       ON CONFLICT (environment, app, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, fly_digest = EXCLUDED.fly_digest, pushed_at = now(), run_id = EXCLUDED.run_id`,
      [environment, app, r.key, r.fingerprint, r.flyDigest, runId],
    );
  }
}
