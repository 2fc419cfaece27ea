import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { connectPg, urlWhere } from "../db/connect.ts";
import { MigrationError } from "../errors.ts";
import { assertNoHashDrift, listMigrationFiles, pendingMigrations, readAppliedMigrations, runMigrations } from "../migrations/run-migrations.ts";
import { validateMigrationFiles } from "../migrations/validate-files.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { withStandaloneRun } from "../pipeline/standalone.ts";
import { targetDatabaseUrl } from "../target-db.ts";
import { checkMigrationUrl } from "../neon/migration-url.ts";
import { flyTarget } from "../fly/context.ts";
import { neonFor } from "../fly/neon.ts";
import { createRestorePoint } from "../neon/restore-point.ts";

/**
 * The migration URL, checked before connecting (C-13, C-15): a Neon host must be the direct
 * endpoint (not `-pooler`) and require TLS, set once.
 * @throws {MigrationError} naming the direct host or the TLS fix; the password is never shown.
 */
async function migrationUrl(ctx: OpsContext, start: boolean) {
  const url = await targetDatabaseUrl(ctx, { start });
  const check = checkMigrationUrl(url.reveal());
  if (!check.ok) throw new MigrationError(check.message, { where: ctx.env.target === "fly" ? "MIGRATION_DATABASE_URL" : "DATABASE_URL", fix: check.fix });
  for (const w of check.warnings) ctx.reporter.emit({ kind: "warn", message: w });
  return url;
}

async function connect(ctx: OpsContext, start: boolean) {
  const url = await migrationUrl(ctx, start);
  return connectPg(url, {
    purpose: "migrations",
    where: urlWhere(url),
    connectTimeoutMs: ctx.config.migrate.connectTimeoutMs,
    attempts: ctx.config.migrate.connectAttempts,
    applicationName: "deploy-ops migrate",
    onRetry: (attempt, delayMs, reason) =>
      ctx.reporter.emit({ kind: "retry", what: "connect (migrations; a suspended Neon compute can take seconds to wake)", attempt, delayMs, reason }),
  });
}

/**
 * Checks every migration file against postgres-migrations' rules and ours, without connecting.
 * @returns the migrations folder.
 * @throws {MigrationError} naming the first problem (all are printed).
 */
export async function assertMigrationFilesValid(ctx: OpsContext): Promise<string> {
  const dir = join(ctx.env.repoRoot, ctx.config.migrationsDir);
  const problems = (await validateMigrationFiles(dir)).filter((r) => r.status === "fail");
  if (problems.length > 0) {
    for (const result of problems) ctx.reporter.emit({ kind: "check", result });
    throw new MigrationError(`${problems.length} migration file problem${problems.length > 1 ? "s" : ""}; nothing was applied`, {
      where: problems[0]!.where ?? dir,
      fix: problems[0]!.fix ?? "Fix the files listed above.",
    });
  }
  return dir;
}

/**
 * Validates the migration files (before connecting), checks applied ones did not change, then
 * applies the pending ones. `--dry-run` lists what would run and changes nothing.
 * @returns the file names applied.
 * @throws {MigrationError} with file, rule or Postgres message, and the fix.
 */
export async function migrateDatabase(ctx: OpsContext, runId = "manual"): Promise<{ applied: string[]; restorePoint?: string }> {
  const dir = await assertMigrationFilesValid(ctx);
  const files = await listMigrationFiles(dir);
  let client;
  const url = await migrationUrl(ctx, !ctx.flags.dryRun).catch((err: unknown) => {
    // In a dry run a stopped local database is fine; a URL that breaks Neon's rules is not.
    if (ctx.flags.dryRun && ctx.env.target === "local" && !(err instanceof MigrationError)) return undefined;
    throw err;
  });
  try {
    if (!url) throw new Error("no database in dry run");
    client = await connect(ctx, !ctx.flags.dryRun);
  } catch (err) {
    if (!ctx.flags.dryRun) throw err;
    ctx.reporter.emit({ kind: "plan", step: "migrate", items: files.map((f) => `apply ${f.fileName} (database not reachable in dry run: all files listed)`) });
    return { applied: [] };
  }
  try {
    const applied = await readAppliedMigrations(client);
    await assertNoHashDrift(ctx.config.migrationsDir, files, applied);
    const pending = pendingMigrations(files, applied);
    ctx.reporter.emit({ kind: "info", message: `schema version ${applied.length}; ${pending.length} pending of ${files.length}` });
    if (ctx.flags.dryRun) {
      const restore = ctx.env.target === "fly" && pending.length ? ["take a restore point (Neon branch off the production branch, now)"] : [];
      ctx.reporter.emit({ kind: "plan", step: "migrate", items: pending.length ? [...restore, ...pending.map((f) => `apply ${f.fileName}`)] : ["nothing to apply"] });
      return { applied: [] };
    }
    if (pending.length === 0) return { applied: [] };
    let restorePoint: string | undefined;
    if (ctx.env.target === "fly") {
      const neon = neonFor(ctx, flyTarget(ctx).appsEnv);
      const point = await createRestorePoint(neon.client, { projectId: neon.projectId, branchId: neon.branchId, runId, poll: { intervalMs: ctx.config.neon.pollIntervalMs, timeoutMs: ctx.config.neon.pollTimeoutMs } });
      restorePoint = point.branchId;
      ctx.reporter.emit({ kind: "info", message: `restore point ${point.name} (${point.branchId}) taken at ${point.parentTimestamp}; \`pnpm ops:rollback --db\` restores it` });
    }
    // Session limits the squawk timeout rules ask for: a migration waiting on a busy table fails fast.
    await client.query(`SET lock_timeout = ${Math.round(ctx.config.migrate.statementLockTimeoutMs)}`);
    await client.query(`SET statement_timeout = ${Math.round(ctx.config.migrate.statementTimeoutMs)}`);
    const done = await runMigrations(client, dir, {
      lockTimeoutMs: ctx.config.migrate.lockTimeoutMs,
      deadlineMs: ctx.config.migrate.deadlineMs,
      connectAgain: () => connect(ctx, false),
      log: (m) => (m.startsWith("Starting migration") ? ctx.reporter.emit({ kind: "info", message: m }) : undefined),
    });
    ctx.reporter.emit({ kind: "table", title: "Migrations applied", columns: ["FILE"], rows: done.map((f) => [f]) });
    return { applied: done, ...(restorePoint ? { restorePoint } : {}) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `pnpm ops:migrate` / the `db-migrate` task. */
export const migrateCommand = () =>
  defineOps({
    name: "migrate",
    description: "validate migration files and apply pending ones with postgres-migrations (--dry-run lists them)",
    async run(ctx) {
      const started = new Date();
      await assertMigrationFilesValid(ctx);
      if (ctx.flags.dryRun) {
        await migrateDatabase(ctx);
        return;
      }
      if (ctx.flags.pipeline) {
        const run = await joinRun(ctx, "db-migrate");
        const result = await migrateDatabase(ctx, run.runId);
        recordStep(ctx, run, "db-migrate", started, { ...result });
        return;
      }
      await withStandaloneRun(ctx, "migrate", async (run) => {
        const result = await migrateDatabase(ctx, run.runId);
        return { result, migrationsApplied: result.applied, ...(result.restorePoint ? { restorePoint: result.restorePoint } : {}) };
      });
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "db-migrate", err),
  });
