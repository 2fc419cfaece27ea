import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { PreflightError } from "../errors.ts";
import { validateMigrationFiles } from "../migrations/validate-files.ts";
import { lintMigrations } from "../migrations/lint.ts";
import { checkNodeVersion, checkTools, LOCAL_TOOLS } from "../preflight/tool-checks.ts";
import { checkTurboJson, checkTurboPassThrough, loadTurboJson } from "../preflight/turbo-checks.ts";
import { turboRunArgs, variablesRead } from "../env.ts";
import { checkTurboPipeline } from "../preflight/turbo-graph.ts";
import { checkTurboTaskArgs } from "../preflight/turbo-task-args.ts";
import type { CheckResult } from "../preflight/types.ts";
import type { PreflightCheck } from "../preflight/check.ts";
import { worstStatus } from "../preflight/types.ts";
import { newRun, openRunActions, recordStep } from "../pipeline/run.ts";
import { runPlan } from "../plan/plan.ts";

export type { PreflightCheck } from "../preflight/check.ts";

/** The text of turbo.json for what turbo's plan does not show; turbo's plan for the rest (preflight/turbo-graph.ts). */
async function turboChecks(ctx: OpsContext): Promise<CheckResult[]> {
  const path = join(ctx.env.repoRoot, "turbo.json");
  const json = loadTurboJson(path);
  const rules = ctx.config.turbo;
  // Required variables and cache settings are judged on the plan; the text still covers every
  // entry (secrets in hashed lists, outputs of build tasks this plan does not run) and the shape.
  const text = checkTurboJson(json, { ...rules, requiredEnv: {}, sideEffectTasks: [] }, "turbo.json");
  const runArgs = turboRunArgs(ctx.env.processEnv);
  return [
    ...text,
    ...checkTurboTaskArgs(runArgs),
    ...(await checkTurboPipeline(ctx.runner, {
      repoRoot: ctx.env.repoRoot,
      runArgs,
      processEnv: ctx.env.processEnv,
      redact: ctx.redact,
      deployOrder: ctx.config.deployOrder,
      apps: ctx.config.apps,
      rules,
    })),
  ];
}

/** The checks of each target. Scripts may add their own through `preflightCommand({ extraChecks })`. */
export function preflightChecks(ctx: OpsContext): Record<string, PreflightCheck> {
  const common: Record<string, PreflightCheck> = {
    tools: async (c) => [checkNodeVersion(), ...(await checkTools(c.runner, LOCAL_TOOLS, c.redact))],
    config: () => [{ id: "config", status: "pass", message: `ops.config.ts is valid (${c(ctx)})` }],
    turbo: turboChecks,
    "turbo.passthrough": (c) =>
      checkTurboPassThrough(c.runner, {
        repoRoot: c.env.repoRoot,
        processEnv: c.env.processEnv,
        variables: variablesRead(),
        redact: c.redact,
      }),
    migrations: (c) => validateMigrationFiles(join(c.env.repoRoot, c.config.migrationsDir)),
    "migrations.lint": (c) =>
      lintMigrations(c.runner, join(c.env.repoRoot, c.config.migrationsDir), c.env.repoRoot, {
        pgVersion: c.config.migrate.pgVersion,
        exclude: c.config.migrate.lintExclude,
        fail: c.config.migrate.lintFail,
      }),
  };
  return { ...common, ...ctx.target.preflightChecks() };
}

const c = (ctx: OpsContext) => `${Object.keys(ctx.config.apps).length} apps, deploy order ${ctx.config.deployOrder.join(" → ")}`;

/**
 * Runs every check concurrently and prints each result.
 * @returns all results. Never throws for a failed check; a check that crashes becomes a `fail`.
 */
export async function runPreflightChecks(ctx: OpsContext, checks: Record<string, PreflightCheck>): Promise<CheckResult[]> {
  const groups = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        return await check(ctx);
      } catch (err) {
        const e = err as Error & { where?: string; fix?: string };
        return [
          {
            id: name,
            status: "fail" as const,
            message: e.message,
            ...(e.where ? { where: e.where } : {}),
            fix: e.fix ?? "See the message.",
          },
        ];
      }
    }),
  );
  const results = groups.flat();
  for (const result of results) ctx.reporter.emit({ kind: "check", result });
  return results;
}

export interface PreflightOptions {
  /** Checks added by scripts/preflight.ts, run with the built-in ones. */
  extraChecks?: Record<string, PreflightCheck>;
}

/**
 * `pnpm ops:preflight` / the `production-preflight` task. Runs the checks; in a pipeline run
 * (`--pipeline`) it then opens the run: starts the local database if needed, takes the deploy
 * lock, and records the run. `--dry-run` checks only.
 * @throws {PreflightError} when any check fails (exit 1), listing how many.
 */
export const preflightCommand = (opts: PreflightOptions = {}) =>
  defineOps({
    name: "preflight",
    description: "check tools, config, turbo.json, migrations, secrets and ports; in a pipeline, open the run and take the deploy lock",
    async run(ctx) {
      const started = new Date();
      const results = await runPreflightChecks(ctx, { ...preflightChecks(ctx), ...(opts.extraChecks ?? {}) });
      const failed = results.filter((r) => r.status === "fail");
      const warned = results.filter((r) => r.status === "warn");
      ctx.reporter.emit({ kind: "result", step: "preflight", data: { status: worstStatus(results), results } });
      if (failed.length > 0) {
        throw new PreflightError(`${failed.length} check${failed.length > 1 ? "s" : ""} failed: ${failed.map((f) => f.id).join(", ")}`, {
          fix: "Fix each failed check above (its fix line says how), then run again.",
        });
      }
      ctx.reporter.emit({
        kind: "info",
        message: `${results.length} checks passed${warned.length ? ` (${warned.length} with warnings)` : ""}`,
      });
      if (!ctx.flags.pipeline) return;
      const run = await newRun(ctx);
      const applied = await runPlan(ctx, {
        step: "preflight",
        actions: [...ctx.target.database.startActions(), ...openRunActions(ctx, run), ...ctx.target.repairActions()],
      });
      if (applied) recordStep(ctx, run, "preflight", started, { checks: results.length, warnings: warned.length });
    },
  });
