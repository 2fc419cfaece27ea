import { readFile } from "node:fs/promises";
import type pg from "pg";
import { MigrationError } from "../errors.ts";
import { explainHashDrift, type AppliedMigration } from "./hash-drift.ts";
import { listMigrationFiles, type MigrationFileEntry } from "./validate-files.ts";

/** postgres-migrations' session advisory lock key (with-lock.js). */
export const MIGRATIONS_LOCK_KEY = "-8525285245963000605";

/** The rows of postgres-migrations' `migrations` table; empty when the table does not exist yet. */
export async function readAppliedMigrations(client: pg.Client): Promise<AppliedMigration[]> {
  const exists = await client.query("SELECT to_regclass('public.migrations') IS NOT NULL AS present");
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query("SELECT id, name, hash FROM public.migrations WHERE id > 0 ORDER BY id");
  return rows.map((r) => ({ id: Number(r.id), name: String(r.name), hash: String(r.hash) }));
}

/** Files whose id is above the highest applied id, in order. */
export function pendingMigrations(files: MigrationFileEntry[], applied: AppliedMigration[]): MigrationFileEntry[] {
  const maxApplied = applied.reduce((m, a) => Math.max(m, a.id), 0);
  return files.filter((f) => f.id > maxApplied);
}

/**
 * Fails before migrating when an applied migration's file changed (C-10), saying which file,
 * the stored and current hash, and whether it is a rename, CRLF or BOM change, or an edit.
 * @throws {MigrationError}
 */
export async function assertNoHashDrift(dir: string, files: MigrationFileEntry[], applied: AppliedMigration[]): Promise<void> {
  const contents = await Promise.all(
    files.map(async (f) => ({ id: f.id, name: f.name, fileName: f.fileName, contents: f.contents ?? (await readFile(f.path, "utf8")) })),
  );
  const findings = explainHashDrift(applied, contents).filter((f) => f.cause !== "missing-file");
  if (findings.length === 0) return;
  throw new MigrationError(`applied migrations changed on disk:\n  ${findings.map((f) => f.message).join("\n  ")}`, {
    where: `${dir}/${findings[0]!.file}`,
    fix: findings
      .map((f) => f.fix)
      .filter((v, i, a) => a.indexOf(v) === i)
      .join(" "),
  });
}

/** Who holds postgres-migrations' advisory lock, from pg_locks + pg_stat_activity. */
async function lockHolder(url: () => Promise<pg.Client>): Promise<string> {
  let client: pg.Client | undefined;
  try {
    client = await url();
    const { rows } = await client.query(
      `SELECT a.pid, a.application_name, a.client_addr, a.backend_start
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((l.classid::bigint << 32) | l.objid::bigint) = ($1::bigint & x'FFFFFFFFFFFFFFFF'::bigint)`,
      [MIGRATIONS_LOCK_KEY],
    );
    const r = rows[0];
    return r
      ? `pid ${r.pid} (${r.application_name || "no application_name"}${r.client_addr ? ` from ${r.client_addr}` : ""}, connected since ${new Date(r.backend_start).toISOString()})`
      : "another session";
  } catch {
    return "another session";
  } finally {
    await client?.end().catch(() => undefined);
  }
}

export interface RunMigrationsOptions {
  /** How long to wait for the library's advisory lock before failing, in milliseconds. */
  lockTimeoutMs: number;
  /** Overall deadline of the run, in milliseconds. */
  deadlineMs: number;
  /** Opens a second connection (to name the lock holder). */
  connectAgain: () => Promise<pg.Client>;
  log?: (message: string) => void;
  /** Called with each file's name once its migration committed (from the library's "Finished migration: <id> <name>" log line). */
  onApplied?: (fileName: string) => void;
}

/**
 * Applies pending migrations with postgres-migrations over one connected client, bounding the
 * library's endless lock wait and the whole run by timeouts (the client is closed to stop it).
 * @returns the file names applied, in order (`onApplied` has seen each already; on a failure it has
 *   seen those that committed before it).
 * @throws {MigrationError} on a held lock past `lockTimeoutMs`, the deadline, or a failed migration (naming the file and Postgres' message).
 */
export async function runMigrations(client: pg.Client, dir: string, opts: RunMigrationsOptions): Promise<string[]> {
  let lockTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let abort: ((e: MigrationError) => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    abort = reject;
  });
  const files = opts.onApplied ? await listMigrationFiles(dir).catch(() => []) : [];
  const logger = (msg: string) => {
    opts.log?.(msg);
    const finished = /^Finished migration: (\d+) (.*)$/.exec(msg);
    if (finished) {
      const id = Number(finished[1]);
      // Migration 0 is the library's own table-creating file, named as it names it in its result.
      opts.onApplied?.(files.find((f) => f.id === id)?.fileName ?? `${id}_${finished[2]}.sql`);
    }
    if (msg.startsWith("Acquiring advisory lock")) {
      lockTimer = setTimeout(async () => {
        const holder = await lockHolder(opts.connectAgain);
        await client.end().catch(() => undefined);
        abort?.(
          new MigrationError(
            `the migration lock (postgres-migrations advisory lock ${MIGRATIONS_LOCK_KEY}) is held by ${holder}; waited ${opts.lockTimeoutMs} ms`,
            {
              fix: "Another migration is running against this database. Wait for it and run again; if that session is stuck, end it with SELECT pg_terminate_backend(<pid>).",
            },
          ),
        );
      }, opts.lockTimeoutMs);
    }
    if (msg.startsWith("... acquired advisory lock")) clearTimeout(lockTimer);
  };
  deadlineTimer = setTimeout(async () => {
    await client.end().catch(() => undefined);
    abort?.(
      new MigrationError(`migrations did not finish within ${opts.deadlineMs} ms`, {
        fix: "Check for long-running statements or locks on the tables being migrated; postgres-migrations rolls back the migration that was cut off.",
      }),
    );
  }, opts.deadlineMs);
  try {
    const { migrate } = await import("postgres-migrations"); // only the migrate step loads the library
    const applied = await Promise.race([migrate({ client }, dir, { logger }), aborted]);
    return applied.map((m) => m.fileName);
  } catch (err) {
    if (err instanceof MigrationError) throw err;
    const message = (err as Error).message ?? String(err);
    // The library names the failed migration by its stored name ("bad" for 2_bad.sql): map it back to the file.
    const failedName = message.match(/An error occurred running '([^']+)'/)?.[1];
    const failed =
      failedName && ((await listMigrationFiles(dir).catch(() => [])).find((f) => f.name === failedName)?.fileName ?? failedName);
    const cause = message
      .replace(/^Migration failed\. Reason: /, "")
      .replace(/^An error occurred running '[^']+'\. Rolled back this migration\. No further migrations were run\. Reason: /, "");
    throw new MigrationError(failed ? `migration ${failed} failed: ${cause}` : `migrations failed: ${cause}`, {
      ...(failed ? { where: `${dir}/${failed}` } : {}),
      fix: failed
        ? "Fix the SQL in a new migration or in this file if it never applied anywhere; this migration was rolled back and later ones did not run."
        : "See the message; no further migrations ran.",
    });
  } finally {
    clearTimeout(lockTimer);
    clearTimeout(deadlineTimer);
  }
}

export { listMigrationFiles };
