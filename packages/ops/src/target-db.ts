import type pg from "pg";
import type { OpsContext } from "./context.ts";
import { connectPg, urlWhere } from "./db/connect.ts";
import { ensureOpsSchema, opsSchemaPresent } from "./db/ops-schema.ts";

async function connectTarget(ctx: OpsContext, purpose: string, start: boolean): Promise<pg.Client> {
  const url = await ctx.target.database.url({ start });
  return connectPg(url, {
    purpose,
    where: urlWhere(url),
    connectTimeoutMs: ctx.config.migrate.connectTimeoutMs,
    attempts: ctx.config.migrate.connectAttempts,
    onRetry: (attempt, delayMs, reason) => ctx.reporter.emit({ kind: "retry", what: `connect (${purpose})`, attempt, delayMs, reason }),
  });
}

/**
 * Runs `fn` with a connected client of the target database, the `ops` schema created first if
 * missing (a write: only apply paths use this), then closes it. `start` (default true) lets a
 * local database start.
 */
export async function withTargetDb<T>(
  ctx: OpsContext,
  purpose: string,
  fn: (client: pg.Client) => Promise<T>,
  opts: { start?: boolean } = {},
): Promise<T> {
  const client = await connectTarget(ctx, purpose, opts.start ?? true);
  try {
    await ensureOpsSchema(client);
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Reads from the `ops` schema without creating anything (dry runs, status, history): returns
 * `empty` when the schema does not exist yet. Never starts a database.
 */
export async function readOpsDb<T>(ctx: OpsContext, purpose: string, fn: (client: pg.Client) => Promise<T>, empty: T): Promise<T> {
  const client = await connectTarget(ctx, purpose, false);
  try {
    if (!(await opsSchemaPresent(client))) return empty;
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Reads from the target database without creating anything and without needing the `ops` schema
 * (the application's own tables, `pg_database`): for plans, which must work before this tool
 * ever wrote there. Never starts a database.
 * @throws {OpsError} when the database cannot be reached (callers that can do without say so).
 */
export async function readTargetDb<T>(ctx: OpsContext, purpose: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectTarget(ctx, purpose, false);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
