import { appendFileSync } from "node:fs";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { deployReportMarkdown } from "../output/report.ts";
import { closeRun, failCurrentRun, historyOf, joinRun } from "../pipeline/run.ts";
import { action, applyPlan, printPlan, type Plan } from "../plan/plan.ts";
import type { RunRecord } from "../state/run-state.ts";

/** The finish plan: the target's last actions, then close the run (history + lock) and write the report. */
function finishPlan(
  ctx: OpsContext,
  runId: string | undefined,
  report: { run?: RunRecord; done?: { path: string; entry: ReturnType<typeof historyOf> } },
): Plan {
  const steps = runId ? ctx.runs.readSteps(runId) : {};
  return {
    step: "finish",
    actions: [
      ...ctx.target.finishActions(steps),
      action("db", "record the run as succeeded in ops.deploy_history and release the deploy lock", async () => {
        report.run = await closeRun(ctx, report.run!, "succeeded");
      }),
      action("file", "write the deploy report (and append it to $GITHUB_STEP_SUMMARY when set)", () => {
        const all = ctx.runs.readSteps(report.run!.runId);
        const entry = historyOf(report.run!, "deploy", all);
        const markdown = deployReportMarkdown(entry);
        const path = ctx.runs.writeFile(report.run!.runId, "report.md", markdown);
        if (ctx.env.githubStepSummary) appendFileSync(ctx.env.githubStepSummary, `${markdown}\n`);
        report.done = { path, entry };
      }),
    ],
  };
}

/**
 * The `production-deploy` task, the last node of the graph: records the release in the deploy
 * history, writes the deploy report (also to $GITHUB_STEP_SUMMARY when set), releases the lock.
 */
export const finishCommand = () =>
  defineOps({
    name: "finish",
    description: "record the release in the deploy history, write the report and release the deploy lock",
    async run(ctx) {
      const runId = ctx.flags.pipeline ? ctx.runs.currentRunId() : undefined;
      const open = runId ? ctx.runs.read(runId) : undefined;
      let dryRun = ctx.flags.dryRun;
      // `turbo run production-deploy -- --dry-run` hands the flag to this last task only: the
      // others really ran. Close the run (so its lock is not left held), then fail loudly.
      const misusedDryRun = dryRun && open?.status === "running" && !ctx.env.dryRun;
      if (misusedDryRun) dryRun = false;
      if (dryRun || !ctx.flags.pipeline) {
        printPlan(ctx, finishPlan(ctx, runId, {}));
        return;
      }
      const report: Parameters<typeof finishPlan>[2] = { run: await joinRun(ctx, "finish") };
      await applyPlan(ctx, finishPlan(ctx, report.run!.runId, report));
      const { path, entry } = report.done!;
      const steps = ctx.runs.readSteps(report.run!.runId);
      ctx.reporter.emit({
        kind: "table",
        title: `Deploy ${report.run!.runId} succeeded`,
        columns: ["APP", "PREVIOUS", "RELEASE"],
        rows: Object.entries(entry.releases).map(([app, r]) => [app, r.from ?? "-", r.to ?? "-"]),
      });
      ctx.reporter.emit({
        kind: "table",
        title: "Steps",
        columns: ["STEP", "RESULT", "TIME"],
        rows: Object.values(steps)
          .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
          .map((s) => [s.step, s.status, `${(s.durationMs / 1000).toFixed(1)}s`]),
      });
      ctx.reporter.emit({
        kind: "info",
        message: `report: ${path}; migrations applied: ${entry.migrationsApplied.join(", ") || "none"}; deploy lock released`,
      });
      // Where to look now: a port or URL from the environment is not the one the README names.
      ctx.reporter.emit({ kind: "info", message: `serving at ${ctx.target.smokeTargets().baseUrl}` });
      if (misusedDryRun) {
        throw new UsageError(
          `this was NOT a dry run: --dry-run reached only this last task (turbo passes arguments after -- to the task named on the command line), so run ${report.run!.runId} really deployed`,
          {
            fix: "For a dry run of the whole pipeline use OPS_DRY_RUN=1 pnpm turbo run production-deploy. To undo this deploy: pnpm ops:rollback.",
          },
        );
      }
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "finish", err),
  });
