import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { RollbackError, UsageError } from "../errors.ts";
import { readAppState, rollbackTarget } from "../local/app-state.ts";
import { LocalProvider, type AppRelease } from "../local/provider.ts";
import { withStandaloneRun } from "../pipeline/standalone.ts";
import { resolveLocalSecrets } from "../secrets/local-source.ts";
import { smokeCheck, smokeExpectations } from "./smoke.ts";

/**
 * Rolls the given apps back (in reverse deploy order unless `order` is `deploy`), each with today's secrets (as on Fly:
 * secrets and config are not rolled back).
 * @throws {RollbackError} when an app has no release to go back to or it does not become healthy.
 */
export async function rollbackApps(ctx: OpsContext, targets: { app: string; to?: string }[], order: "reverse" | "deploy" = "reverse"): Promise<AppRelease[]> {
  const provider = new LocalProvider(ctx.config, ctx.env);
  const resolved = resolveLocalSecrets(ctx.config, ctx.env, { create: false });
  for (const v of resolved.values.values()) ctx.addSecret(v);
  const apps = (order === "reverse" ? [...ctx.config.deployOrder].reverse() : ctx.config.deployOrder).filter((a) => targets.some((t) => t.app === a));
  const done: AppRelease[] = [];
  for (const app of apps) {
    const to = targets.find((t) => t.app === app)!.to;
    const secrets = new Map(ctx.config.apps[app]!.secrets.map((k) => [k, resolved.values.get(k)!]));
    const r = await provider.rollback(app, secrets, { ...(to ? { to } : {}), onProgress: (message) => ctx.reporter.emit({ kind: "info", message }) });
    done.push(r);
  }
  return done;
}

/**
 * `pnpm ops:rollback [--app <name>] [--to <release>]`: restarts each app's previous release (or
 * the one named), then smoke-checks that the rolled-back releases answer. `--dry-run` prints
 * which release each app would go back to.
 */
export const rollbackCommand = () =>
  defineOps({
    name: "rollback",
    description: "roll apps back to their previous release (or --to <release>) and smoke-check them",
    options: { app: { type: "string" }, to: { type: "string" }, db: { type: "boolean", default: false } },
    async run(ctx, { values }) {
      if (values.db) throw new UsageError("--db (restore the database from a restore point) needs the fly target with Neon", { fix: "On the local target, roll forward with a new migration." });
      if (ctx.env.target !== "local") throw new UsageError("the fly target is not available in this version", { fix: "Use OPS_TARGET=local." });
      const app = values.app as string | undefined;
      const to = values.to as string | undefined;
      if (app && !ctx.config.apps[app]) throw new UsageError(`--app "${app}" is not an app`, { fix: `Use one of: ${ctx.config.deployOrder.join(", ")}.` });
      if (to && !app) throw new UsageError("--to needs --app (release ids are per app)", { fix: "pnpm ops:rollback --app client --to <release>" });
      const provider = new LocalProvider(ctx.config, ctx.env);
      const apps = app ? [app] : ctx.config.deployOrder;
      const plan = apps.map((a) => {
        const target = rollbackTarget(readAppState(provider.paths, a), a === app ? to : undefined);
        return { app: a, from: provider.currentRelease(a), to: target?.id };
      });
      const impossible = plan.filter((p) => !p.to);
      ctx.reporter.emit({ kind: "plan", step: "rollback", items: plan.map((p) => `${p.app}: ${p.from ?? "(none)"} → ${p.to ?? "no earlier release"}`) });
      if (ctx.flags.dryRun) return;
      if (impossible.length > 0) {
        throw new RollbackError(`nothing to roll back to for ${impossible.map((p) => p.app).join(", ")}`, {
          fix: "A rollback needs an earlier release that served; see `pnpm ops:status` and `pnpm ops:history`.",
        });
      }
      await withStandaloneRun(ctx, "rollback", async (run) => {
        const done = await rollbackApps(ctx, plan.map((p) => ({ app: p.app, to: p.to! })));
        const releases = Object.fromEntries(ctx.config.deployOrder.map((a) => [a, provider.currentRelease(a) ?? "(none)"]));
        const { results, reportPath } = await smokeCheck(ctx, await smokeExpectations(ctx, releases), join(ctx.env.stateDir, "runs", run.runId));
        if (!results.every((r) => r.ok)) {
          throw new RollbackError(`the rolled-back releases do not pass the smoke checks: ${results.filter((r) => !r.ok).map((r) => `${r.name} (${r.reason})`).join("; ")}`, {
            where: reportPath,
            fix: "Check `pnpm ops:status`; roll back further with --to, or deploy a fix.",
          });
        }
        return { result: done, releases: Object.fromEntries(done.map((d) => [d.app, { from: d.previous, to: d.release }])) };
      });
    },
  });
