import { join } from "node:path";
import { confirm } from "../cli/confirm.ts";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { listHistory } from "../db/history.ts";
import { RollbackError, UsageError } from "../errors.ts";
import { runStandalone } from "../pipeline/standalone.ts";
import { action } from "../plan/plan.ts";
import { parseRestoreTime, RESTORE_TIME_EXAMPLE } from "../release/restore-time.ts";
import { describeChoices, rollbackActions } from "../release/rollback.ts";
import { describeSchemaDelta, schemaDeltaSince } from "../release/schema-delta.ts";
import { smokeActions, type smokeCheck } from "../release/smoke.ts";
import { didYouMean } from "../text/did-you-mean.ts";
import type { RestoreSource } from "../target/target.ts";
import { readOpsDb } from "../target-db.ts";

/**
 * `pnpm ops:rollback --db`: restore the database (targets that can) from a restore point (`--restore-point`,
 * else the newest one the history recorded) or from its own history at `--to <RFC 3339 time>`.
 */
async function rollbackDatabase(ctx: OpsContext, restorePoint: string | undefined, to: string | undefined): Promise<void> {
  const restore = ctx.target.restore;
  if (!restore)
    throw new UsageError(`--db restores the database from a restore point; the ${ctx.target.name} target has none`, {
      fix: "Roll forward with a new migration.",
    });
  if (restorePoint && to)
    throw new UsageError("--db takes either --restore-point or --to, not both", {
      fix: `pnpm ops:rollback --db --restore-point ${restorePoint}   or   pnpm ops:rollback --db --to ${to}`,
    });
  let source: RestoreSource;
  if (to !== undefined) source = { time: parseRestoreTime(to) };
  else {
    const pointId =
      restorePoint ??
      (await readOpsDb(ctx, "deploy history", (c) => listHistory(c, ctx.env.environment, 50), [])).find((h) => h.restorePoint)
        ?.restorePoint;
    if (!pointId)
      throw new RollbackError("no restore point recorded in the deploy history", {
        fix: `Pass one explicitly (pnpm ops:rollback --db --restore-point br-…) or a time (pnpm ops:rollback --db --to ${RESTORE_TIME_EXAMPLE}).`,
      });
    source = { restorePoint: pointId };
  }
  const plan = await restore.plan(source);
  // Shown before the question; a dry run shows the same lines as the plan's notes.
  if (!ctx.flags.dryRun) ctx.reporter.emit({ kind: "info", message: plan.lines.join("\n  ") });
  if (!ctx.flags.dryRun && !(await confirm(ctx, "This overwrites every database on the branch.", plan.confirmWord))) {
    throw new UsageError("the database restore needs confirmation", {
      fix: "Run it on a terminal and type the branch name, or pass --yes (CI).",
    });
  }
  await runStandalone(ctx, "rollback", async () => ({
    plan: { step: "rollback --db", actions: plan.actions, notes: plan.lines },
    result: () => undefined,
    record: () => ("restorePoint" in source ? { restorePoint: source.restorePoint } : {}),
  }));
}

/**
 * `pnpm ops:rollback [--app <name>] [--to <release>]`: each app back to its previous release (or
 * the one named), then a smoke check of what serves. `--db` restores the database instead (on a
 * target with restore points), from `--restore-point` or to `--to <time>`. `--dry-run` prints the plan.
 */
export const rollbackCommand = () =>
  defineOps({
    name: "rollback",
    description:
      "roll apps back to their previous release (or --to) and smoke-check them; --db restores the Neon branch from a restore point or to a time",
    usage: [
      "pnpm ops:rollback                      every app to its previous release, then smoke checks",
      "pnpm ops:rollback --app <app> [--to <release>]   one app (local: a release id; fly: vN)",
      "pnpm ops:rollback --db [--restore-point br-…]   fly: restore the Neon branch from a restore point (asks, or --yes)",
      `pnpm ops:rollback --db --to <time>      fly: restore the Neon branch to a time, RFC 3339 with a zone (${RESTORE_TIME_EXAMPLE})`,
    ],
    // `--app <an app this environment leaves off>`: its one line, nothing else.
    skipWhen: ({ values, appsOff }) => (typeof values.app === "string" ? appsOff.get(values.app) : undefined),
    options: {
      app: { type: "string" },
      to: { type: "string" },
      db: { type: "boolean", default: false },
      "restore-point": { type: "string" },
    },
    async run(ctx, { values }) {
      if (values.db && values.app)
        throw new UsageError("--db restores the whole database; --app is for rolling back one app", {
          fix: `Run them apart: pnpm ops:rollback --app ${values.app as string}, then pnpm ops:rollback --db if the database must go back too.`,
        });
      if (values.db) return rollbackDatabase(ctx, values["restore-point"] as string | undefined, values.to as string | undefined);
      const app = values.app as string | undefined;
      const to = values.to as string | undefined;
      if (app && !ctx.config.apps[app])
        throw new UsageError(`--app "${app}" is not an app${didYouMean(app, ctx.config.deployOrder)}`, {
          fix: `Use one of: ${ctx.config.deployOrder.join(", ")}.`,
        });
      if (to && !app)
        throw new UsageError("--to needs --app (releases are per app)", {
          fix: `pnpm ops:rollback --app ${ctx.config.publicApp} --to <release>`,
        });
      // Listed in the order they run: reverse deploy order (the last app deployed is rolled back first).
      const notHere = (a: string) => ctx.target.notRunHere?.(a);
      for (const a of app ? [app] : ctx.config.deployOrder) {
        const line = notHere(a);
        if (line) ctx.reporter.emit({ kind: "info", message: line });
      }
      if (app && notHere(app)) return;
      const apps = app ? [app] : [...ctx.config.deployOrder].reverse().filter((a) => !notHere(a));
      const choices = await ctx.target.planRollback(apps, app ? { [app]: to } : {});
      // Shown once, as the plan's notes (dry run and apply).
      const lines = describeChoices(choices);
      const delta = describeSchemaDelta(await schemaDeltaSince(ctx, choices));
      if (delta) {
        ctx.reporter.emit({
          kind: "warn",
          message: delta,
          // Only a target with restore points can take the database back (local has none).
          fix: ctx.target.restore
            ? "Check the old release works with the new schema; restore the database with `pnpm ops:rollback --db` only if it must go back too."
            : `Check the old release works with the new schema; the ${ctx.target.name} target cannot restore the database, so if it must change, roll forward with a new migration.`,
        });
      }
      const impossible = choices.filter((p) => !p.toArg);
      if (impossible.length > 0) {
        throw new RollbackError(`nothing to roll back to for ${impossible.map((p) => `${p.app} (${p.reason})`).join(", ")}`, {
          fix: "See `pnpm ops:status` and `pnpm ops:history`.",
        });
      }
      let smoke: Awaited<ReturnType<typeof smokeCheck>> | undefined;
      await runStandalone(ctx, "rollback", async (run) => {
        const { actions, outcomes } = rollbackActions(ctx, choices);
        // What serves once rolled back: the chosen releases, the other apps as they are.
        const current = await ctx.target.currentReleases();
        const expect = { ...current, ...Object.fromEntries(choices.map((c) => [c.app, c.expectRelease!])) };
        return {
          plan: {
            step: "rollback",
            notes: lines,
            actions: [
              ...actions,
              ...smokeActions(ctx, expect, join(ctx.env.stateDir, "smoke", ctx.env.environment, run.runId), (r) => (smoke = r)),
              action("check", "fail the rollback if a smoke check failed", () => {
                if (smoke && !smoke.results.every((r) => r.ok)) {
                  throw new RollbackError(
                    `the rolled-back releases do not pass the smoke checks: ${smoke.results
                      .filter((r) => !r.ok)
                      .map((r) => `${r.name} (${r.reason})`)
                      .join("; ")}`,
                    { where: smoke.reportPath, fix: "Check `pnpm ops:status`; roll back further with --to, or deploy a fix." },
                  );
                }
              }),
            ],
          },
          result: () => outcomes(),
          record: () => ({ releases: Object.fromEntries(outcomes().map((d) => [d.app, { from: d.previous, to: d.release }])) }),
        };
      });
    },
  });
