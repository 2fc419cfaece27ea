import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { connectPg, urlWhere } from "../db/connect.ts";
import { MigrationError } from "../errors.ts";
import { assertNoHashDrift, pendingMigrations, readAppliedMigrations, runMigrations } from "../migrations/run-migrations.ts";
import { inspectMigrationFolder } from "../migrations/validate-files.ts";
import { failCurrentRun, joinRun, plannedRunId, recordStep } from "../pipeline/run.ts";
import { runStandalone } from "../pipeline/standalone.ts";
import { checkMigrationUrl } from "../neon/migration-url.ts";
import { action, applyPlan, printPlan, type Action } from "../plan/plan.ts";

/**
 * The migration URL, checked before connecting (C-13, C-15): a Neon host must be the direct
 * endpoint (not `-pooler`) and require TLS, set once.
 * @throws {MigrationError} naming the direct host or the TLS fix; the password is never shown.
 */
async function migrationUrl(ctx: OpsContext, start: boolean) {
  const url = await ctx.target.database.url({ start });
  const check = checkMigrationUrl(url.reveal());
  if (!check.ok) throw new MigrationError(check.message, { where: ctx.target.database.source, fix: check.fix });
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
      ctx.reporter.emit({
        kind: "retry",
        what: "connect (migrations; a suspended Neon compute can take seconds to wake)",
        attempt,
        delayMs,
        reason,
      }),
  });
}

/**
 * Checks every migration file against postgres-migrations' rules and ours, without connecting,
 * reading the folder once.
 * @returns the migrations folder and its files.
 * @throws {MigrationError} naming the first problem (all are printed).
 */
export async function assertMigrationFilesValid(ctx: OpsContext) {
  const dir = join(ctx.env.repoRoot, ctx.config.migrationsDir);
  // One read of the folder gives both the checks and the file list.
  const { results, files } = await inspectMigrationFolder(dir);
  const problems = results.filter((r) => r.status === "fail");
  if (problems.length > 0) {
    for (const result of problems) ctx.reporter.emit({ kind: "check", result });
    throw new MigrationError(`${problems.length} migration file problem${problems.length > 1 ? "s" : ""}; nothing was applied`, {
      where: problems[0]!.where ?? dir,
      fix: problems[0]!.fix ?? "Fix the files listed above.",
    });
  }
  return { dir, files };
}

/** The applied migrations, read without writing; undefined when the database is not reachable in a dry run (a stopped local database). */
async function readApplied(ctx: OpsContext) {
  let client;
  try {
    client = await connect(ctx, !ctx.flags.dryRun);
  } catch (err) {
    // In a dry run a stopped local database is fine; a URL that breaks Neon's rules is not.
    if (ctx.flags.dryRun && !(err instanceof MigrationError)) return undefined;
    throw err;
  }
  try {
    return await readAppliedMigrations(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The migrate plan: validate the files (before connecting), check applied ones did not change,
 * then (when something is pending) take a restore point where the target has them, and apply the
 * pending files with postgres-migrations under the squawk session limits.
 * @returns the plan, and after apply the files applied and the restore point.
 * @throws {MigrationError} with file, rule or Postgres message, and the fix.
 */
export async function planMigrations(ctx: OpsContext, runId: string) {
  const { dir, files } = await assertMigrationFilesValid(ctx);
  const applied = await readApplied(ctx);
  // schemaVersion: the highest applied id once this step is done, recorded as the schema this run's releases were deployed with.
  const out: { applied: string[]; restorePoint?: string; schemaVersion?: number } = { applied: [] };
  if (!applied) {
    return {
      plan: {
        step: "migrate",
        actions: [
          action(
            "db",
            `apply every file of ${ctx.config.migrationsDir} (${files.map((f) => f.fileName).join(", ")}); the database is not running in this dry run`,
            () => undefined,
          ),
        ],
      },
      result: () => out,
    };
  }
  await assertNoHashDrift(ctx.config.migrationsDir, files, applied);
  const pending = pendingMigrations(files, applied);
  out.schemaVersion = applied.reduce((m, a) => Math.max(m, a.id), 0);
  const actions: Action[] = [];
  if (pending.length > 0 && ctx.target.restore) actions.push(ctx.target.restore.restorePointAction(runId, (id) => (out.restorePoint = id)));
  if (pending.length > 0) {
    actions.push(
      action(
        "db",
        `apply ${pending.map((f) => f.fileName).join(", ")} (each in its own transaction, lock_timeout ${ctx.config.migrate.statementLockTimeoutMs} ms)`,
        async () => {
          const client = await connect(ctx, false);
          try {
            // Session limits the squawk timeout rules ask for: a migration waiting on a busy table fails fast.
            await client.query(`SET lock_timeout = ${Math.round(ctx.config.migrate.statementLockTimeoutMs)}`);
            await client.query(`SET statement_timeout = ${Math.round(ctx.config.migrate.statementTimeoutMs)}`);
            // Each file as it commits: a later failure still records those that were applied.
            out.applied = [];
            out.applied = await runMigrations(client, dir, {
              lockTimeoutMs: ctx.config.migrate.lockTimeoutMs,
              deadlineMs: ctx.config.migrate.deadlineMs,
              connectAgain: () => connect(ctx, false),
              log: (m) => (m.startsWith("Starting migration") ? ctx.reporter.emit({ kind: "info", message: m }) : undefined),
              onApplied: (file) => out.applied.push(file),
            });
          } catch (err) {
            if (err instanceof MigrationError && out.applied.length > 0) {
              throw new MigrationError(`${err.message}; applied before it, and kept: ${out.applied.join(", ")}`, {
                ...(err.where ? { where: err.where } : {}),
                ...(err.fix ? { fix: err.fix } : {}),
              });
            }
            throw err;
          } finally {
            await client.end().catch(() => undefined);
          }
          for (const f of pending) if (out.applied.includes(f.fileName)) out.schemaVersion = Math.max(out.schemaVersion ?? 0, f.id);
          ctx.reporter.emit({ kind: "table", title: "Migrations applied", columns: ["FILE"], rows: out.applied.map((f) => [f]) });
        },
      ),
    );
  }
  return {
    plan: { step: "migrate", actions, notes: [`schema version ${applied.length}; ${pending.length} pending of ${files.length}`] },
    result: () => out,
  };
}

/** `pnpm ops:migrate` / the `db-migrate` task. */
export const migrateCommand = () =>
  defineOps({
    name: "migrate",
    description: "validate migration files and apply pending ones with postgres-migrations (--dry-run lists them)",
    async run(ctx) {
      const started = new Date();
      if (ctx.flags.pipeline && !ctx.flags.dryRun) {
        const run = await joinRun(ctx, "db-migrate");
        const { plan, result } = await planMigrations(ctx, run.runId);
        try {
          await applyPlan(ctx, plan);
        } catch (err) {
          // The run's history then lists the files that did apply (each commits on its own).
          recordStep(ctx, run, "db-migrate", started, { ...result() }, "failed");
          throw err;
        }
        recordStep(ctx, run, "db-migrate", started, { ...result() });
        return;
      }
      if (ctx.flags.pipeline) {
        printPlan(ctx, (await planMigrations(ctx, plannedRunId(ctx))).plan);
        return;
      }
      await runStandalone(ctx, "migrate", async (run) => {
        const { plan, result } = await planMigrations(ctx, run.runId);
        return {
          plan,
          result,
          record: () => ({
            migrationsApplied: result().applied,
            ...(result().restorePoint ? { restorePoint: result().restorePoint } : {}),
          }),
        };
      });
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "db-migrate", err),
  });
