// Types only at load time: pg and p-retry are imported when a connection is opened.
import type pg from "pg";
import { OpsError } from "../errors.ts";
import type { Secret } from "../secrets/secret.ts";
import { classifyConnectError } from "../neon/migration-url.ts";

export interface ConnectOptions {
  /** Timeout of one connect attempt, in milliseconds (a cold Neon compute can take seconds, C-16). */
  connectTimeoutMs: number;
  /** Attempts of the connect phase; SQL is never retried. @default 4 */
  attempts?: number;
  /** Called before each retry with the reason (the message never holds the URL). */
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
  /** What the connection is for, used in error messages ("migrations", "deploy lock"). */
  purpose: string;
  /** Shown as `where` in errors: a host, never the URL. */
  where: string;
  /** `application_name` seen in pg_stat_activity. */
  applicationName?: string;
}

/** SQLSTATEs that retrying cannot fix (bad password, missing database, no permission). */
const PERMANENT = new Set(["28P01", "28000", "3D000", "42501"]);

/**
 * Opens one `pg.Client` (not a pool: postgres-migrations' advisory lock needs one session).
 * Retries only the connect phase with exponential backoff.
 * @throws {OpsError} (`E_COMMAND`) naming the host and the last reason once every attempt failed.
 */
export async function connectPg(url: Secret, opts: ConnectOptions): Promise<pg.Client> {
  const attempts = opts.attempts ?? 4;
  let delayMs = 1000;
  const [{ default: pgModule }, { default: pRetry, AbortError }] = await Promise.all([import("pg"), import("p-retry")]);
  return pRetry(
    async () => {
      const client = new pgModule.Client({
        connectionString: explicitSslMode(url.reveal()),
        connectionTimeoutMillis: opts.connectTimeoutMs,
        application_name: opts.applicationName ?? "deploy-ops",
      });
      client.on("error", () => {
        // A dropped idle connection surfaces on the next query; never crash the process here.
      });
      try {
        await client.connect();
        return client;
      } catch (err) {
        await client.end().catch(() => undefined);
        const e = err as { code?: string; message?: string };
        // C-16: only what a waking compute or a network blip explains is retried.
        const verdict = classifyConnectError(err);
        if ((e.code && PERMANENT.has(e.code)) || !verdict.retry) throw new AbortError(describe(e));
        throw new Error(describe(e));
      }
    },
    {
      retries: attempts - 1,
      factor: 2,
      minTimeout: 1000,
      maxTimeout: 8000,
      randomize: false,
      onFailedAttempt: (error) => {
        if (error.retriesLeft > 0) opts.onRetry?.(error.attemptNumber, delayMs, error.message);
        delayMs = Math.min(delayMs * 2, 8000);
      },
    },
  ).catch((err: Error) => {
    throw new OpsError("E_COMMAND", `could not connect to the ${opts.purpose} database at ${opts.where}: ${err.message}`, {
      where: opts.where,
      fix: "Check that the database is running and the URL is right (pnpm ops:local status for the local target; the Neon console for fly).",
    });
  });
}

/**
 * node-postgres treats `sslmode=prefer|require|verify-ca` as `verify-full` and prints a security
 * warning each time; say `verify-full` explicitly so behaviour is unchanged and the output clean.
 */
export function explicitSslMode(url: string): string {
  return url.replace(/([?&]sslmode=)(prefer|require|verify-ca)(?=&|$)/, "$1verify-full");
}

function describe(e: { code?: string; message?: string }): string {
  const msg = (e.message ?? "unknown error").replace(/postgres(ql)?:\/\/\S+/g, "<url>");
  return e.code ? `${msg} (${e.code})` : msg;
}

/** The host:port of a connection URL, for messages. Never includes credentials. */
export function urlWhere(url: Secret): string {
  try {
    const u = new URL(url.reveal());
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "(unparseable database URL)";
  }
}
