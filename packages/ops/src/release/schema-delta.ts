import type pg from "pg";
import type { OpsContext } from "../context.ts";
import { listHistory, type HistoryEntry } from "../db/history.ts";
import type { RollbackChoice } from "../target/target.ts";
import { readOpsDb, readTargetDb } from "../target-db.ts";

/**
 * "Migrations applied since the target release", for rollback plans on every target. An app
 * rollback never undoes a migration, so the plan names what stays applied. The facts come from
 * the database itself: postgres-migrations' own table (`migrations`: `id`, `name`, `hash`,
 * `executed_at`; created by its `0_create-migrations-table.sql`), so migrations applied by hand
 * or by an older tool count; and from the release's record in the deploy history (the schema
 * version the run that deployed it left). Only when the table cannot be read does the plan fall
 * back to this tool's own history, and it says so.
 */

/** One row of postgres-migrations' `migrations` table. */
export interface AppliedMigrationRow {
  id: number;
  name: string;
  /** `executed_at` (a `timestamp` without zone, written with the session's `current_timestamp`), read in the session's TimeZone. */
  executedAt: Date;
}

/**
 * Every applied migration but the table's own (id 0), oldest first; empty when the table does not
 * exist. `executed_at` is a `timestamp` without time zone written with `current_timestamp`, so it is
 * read back in the session's `TimeZone` (the same server setting that wrote it).
 */
export async function readMigrationsTable(client: pg.Client): Promise<AppliedMigrationRow[]> {
  const exists = await client.query("SELECT to_regclass('public.migrations') IS NOT NULL AS present");
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query(
    "SELECT id, name, executed_at AT TIME ZONE current_setting('TimeZone') AS executed_at FROM public.migrations WHERE id > 0 ORDER BY id",
  );
  return rows.map((r) => ({ id: Number(r.id), name: String(r.name), executedAt: new Date(r.executed_at) }));
}

/** Where "since the release" starts for one rollback choice. */
export type ReleaseBaseline =
  | { kind: "schema-version"; app: string; release: string; version: number; runId: string }
  | { kind: "made-at"; app: string; release: string; at: string }
  | { kind: "unknown"; app: string; release: string };

/**
 * The baseline of `release` of `app`: the schema version recorded by the newest deploy run that
 * deployed it (the history's `schemaVersion`), else the time the release was made (`madeAt`: Fly's
 * `CreatedAt`, the local release folder's time), else unknown.
 */
export function releaseBaseline(
  history: readonly HistoryEntry[],
  app: string,
  release: string,
  madeAt: string | undefined,
): ReleaseBaseline {
  const record = [...history]
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
    .find((h) => h.kind === "deploy" && h.releases?.[app]?.to === release && typeof h.schemaVersion === "number");
  if (record) return { kind: "schema-version", app, release, version: record.schemaVersion!, runId: record.runId };
  if (madeAt && !Number.isNaN(Date.parse(madeAt))) return { kind: "made-at", app, release, at: new Date(madeAt).toISOString() };
  return { kind: "unknown", app, release };
}

/** The rows applied after `baseline`: ids above its schema version, or executed after it was made (every row when unknown). */
export function appliedAfter(rows: readonly AppliedMigrationRow[], baseline: ReleaseBaseline): AppliedMigrationRow[] {
  if (baseline.kind === "schema-version") return rows.filter((r) => r.id > baseline.version);
  if (baseline.kind === "made-at") return rows.filter((r) => r.executedAt.getTime() > Date.parse(baseline.at));
  return [...rows];
}

/** The id of a migration file name (`3_add-users.sql` → 3), as postgres-migrations parses it. */
const idOfFile = (file: string) => Number.parseInt(file, 10);

export interface SchemaDelta {
  /** Migrations that stay applied, oldest first; `byThisTool` is false for ones no run of this tool recorded (applied by hand or by an older tool). */
  migrations: { id: number; name: string; executedAt: string | undefined; byThisTool: boolean }[];
  /** Where the list comes from, for the plan. */
  source: string;
  /** False when the migrations table could not be read: the list holds only what this tool recorded. */
  fromDatabase: boolean;
}

/**
 * Works out, from the database's migrations table and each release's record, which migrations
 * were applied after the oldest release the rollback goes back to. Reads only; when the table
 * cannot be read (database down), falls back to the runs this tool recorded and says so in `source`.
 */
export async function schemaDeltaSince(ctx: OpsContext, choices: readonly RollbackChoice[]): Promise<SchemaDelta> {
  const targets = choices.filter((c) => c.toArg && c.expectRelease);
  if (targets.length === 0) return { migrations: [], source: "nothing to roll back", fromDatabase: true };
  const history = await readOpsDb(ctx, "deploy history", (c) => listHistory(c, ctx.env.environment, 200), []).catch(
    () => [] as HistoryEntry[],
  );
  const recordedIds = new Set(history.flatMap((h) => h.migrationsApplied.map(idOfFile)));
  const baselines = targets.map((c) => releaseBaseline(history, c.app, c.expectRelease!, c.since));
  const describe = (b: ReleaseBaseline) =>
    b.kind === "schema-version"
      ? `${b.app} ${b.release} was deployed at schema version ${b.version} (run ${b.runId})`
      : b.kind === "made-at"
        ? `${b.app} ${b.release} was made at ${b.at} and no run of this tool recorded its schema version`
        : `${b.app} ${b.release}: neither its schema version nor its time is known, so every applied migration is listed`;
  try {
    const rows = await readTargetDb(ctx, "migrations table", readMigrationsTable);
    const after = new Map<number, AppliedMigrationRow>();
    for (const b of baselines) for (const r of appliedAfter(rows, b)) after.set(r.id, r);
    return {
      migrations: [...after.values()]
        .sort((a, b) => a.id - b.id)
        .map((r) => ({ id: r.id, name: r.name, executedAt: r.executedAt.toISOString(), byThisTool: recordedIds.has(r.id) })),
      source: `the database's migrations table (postgres-migrations); ${baselines.map(describe).join("; ")}`,
      fromDatabase: true,
    };
  } catch (err) {
    const oldest = targets
      .map((c) => c.since)
      .filter((s): s is string => Boolean(s))
      .sort()[0];
    const recorded = oldest
      ? history
          .filter((h) => h.startedAt > new Date(oldest))
          .flatMap((h) => h.migrationsApplied)
          .filter((m) => !m.startsWith("0_"))
      : [];
    return {
      migrations: [...new Set(recorded)].map((file) => ({ id: idOfFile(file), name: file, executedAt: undefined, byThisTool: true })),
      source: `this tool's deploy history only: the database's migrations table could not be read (${(err as Error).message.split("\n")[0]}), so migrations applied by hand are not listed`,
      fromDatabase: false,
    };
  }
}

/** The delta as one plan line, or undefined when the database says nothing stays applied. */
export function describeSchemaDelta(delta: SchemaDelta): string | undefined {
  if (delta.migrations.length === 0)
    return delta.fromDatabase ? undefined : `migrations applied since that release: none recorded by this tool [from ${delta.source}]`;
  const items = delta.migrations.map(
    (m) => `${m.id} ${m.name}${m.executedAt ? ` (applied ${m.executedAt}${m.byThisTool ? "" : ", not by this tool"})` : ""}`,
  );
  return `migrations applied since that release stay applied: ${items.join(", ")} [from ${delta.source}]`;
}

/**
 * For a database restore: the migrations the restore takes away, those the database's own table
 * says ran after `at` (the restore point's time, or `--to`), as one plan line. `rows` is what
 * {@link readMigrationsTable} read, or an error text when it could not be read.
 */
export function describeUndoneMigrations(rows: readonly AppliedMigrationRow[] | { error: string }, at: string): string {
  if ("error" in rows) return `which migrations the restore takes back could not be read (${rows.error}); check \`pnpm ops:history\``;
  const undone = rows.filter((r) => r.executedAt.getTime() > Date.parse(at));
  if (undone.length === 0) return `no migration ran after ${at}, so the schema stays as it is (the database's migrations table)`;
  return `the schema goes back too: ${undone.map((r) => `${r.id} ${r.name} (applied ${r.executedAt.toISOString()})`).join(", ")} ran after ${at} and ${undone.length > 1 ? "are" : "is"} undone (the database's migrations table); the apps that serve must work with the schema before ${undone.length > 1 ? "them" : "it"}`;
}
