import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import type { OpsContext } from "../context.ts";
import { defineOps } from "../cli/run-ops.ts";
import { UsageError } from "../errors.ts";
import { readAppState } from "../local/app-state.ts";
import { LocalProvider } from "../local/provider.ts";
import { postgresDataDir, stopLocalPostgres } from "../local/postgres.ts";
import { stopRouter } from "../local/router.ts";
import { targetDatabaseUrl } from "../target-db.ts";
import { rollbackApps } from "./rollback.ts";
import { statusCommand } from "./status.ts";

/** Deletes everything the local target keeps for one environment; returns what it deleted. */
function purgeEnvironment(ctx: OpsContext, dataDir: string, root: string): string[] {
  const { stateDir, environment } = ctx.env;
  // The fallback data folder under the OS temp dir goes with its own parent.
  const dataHome = basename(dirname(dataDir)).startsWith("deploy-ops-pg-") ? dirname(dataDir) : dataDir;
  const targets = [root, dataHome, join(stateDir, "current-run", `${environment}.json`), join(stateDir, "ledger", environment), join(stateDir, "smoke", environment)];
  const runsDir = join(stateDir, "runs");
  if (existsSync(runsDir)) {
    for (const id of readdirSync(runsDir)) {
      try {
        if ((JSON.parse(readFileSync(join(runsDir, id, "run.json"), "utf8")) as { environment?: string }).environment === environment) targets.push(join(runsDir, id));
      } catch {
        // a run folder without run.json is not ours to judge
      }
    }
  }
  const removed = targets.filter((t) => existsSync(t));
  for (const t of removed) rmSync(t, { recursive: true, force: true });
  return removed.map((t) => relative(stateDir, t) || t);
}

/** `pnpm ops:local up|down|status`: the processes of the local target. */
export const localCommand = () =>
  defineOps({
    name: (pos) => `local ${pos[0] ?? "status"}`,
    description: "local target processes: `up` restarts the current releases, `down` stops everything (--purge deletes the local state), `status` shows them",
    usage: ["pnpm ops:local [status]   what runs where", "pnpm ops:local up         start the local Postgres and the current releases", "pnpm ops:local down [--purge]   stop everything (--purge: delete this environment's local state)"],
    options: { purge: { type: "boolean", default: false } },
    async run(ctx, args) {
      const sub = args.positionals[0] ?? "status";
      if (ctx.env.target !== "local") throw new UsageError(`ops:local manages the local target, but OPS_TARGET is "${ctx.env.target}"`, { fix: "Unset OPS_TARGET." });
      const provider = new LocalProvider(ctx.config, ctx.env);
      if (sub === "status") return statusCommand().run(ctx, args);
      if (sub === "down") {
        if (ctx.flags.dryRun) {
          ctx.reporter.emit({ kind: "plan", step: "local down", items: ["stop every release", "stop the router", "stop the local Postgres", ...(args.values.purge ? [`delete ${provider.paths.root}`] : [])] });
          return;
        }
        const stopped = await provider.stopApps();
        ctx.reporter.emit({ kind: "info", message: stopped.length ? `stopped ${stopped.join(", ")}` : "no release was running" });
        ctx.reporter.emit({ kind: "info", message: `router: ${await stopRouter(provider.paths)}` });
        ctx.reporter.emit({ kind: "info", message: `postgres: ${await stopLocalPostgres(provider.paths)}` });
        if (args.values.purge) {
          const removed = purgeEnvironment(ctx, postgresDataDir(provider.paths), provider.paths.root);
          ctx.reporter.emit({ kind: "warn", message: `deleted the local state of "${ctx.env.environment}": ${removed.join(", ")}` });
        }
        return;
      }
      if (sub === "up") {
        const current = ctx.config.deployOrder.map((app) => ({ app, to: readAppState(provider.paths, app).current })).filter((c): c is { app: string; to: string } => c.to !== null);
        if (ctx.flags.dryRun) {
          ctx.reporter.emit({ kind: "plan", step: "local up", items: ["start the local Postgres", ...current.map((c) => `start ${c.app} release ${c.to}`)] });
          return;
        }
        await targetDatabaseUrl(ctx, { start: true });
        if (current.length === 0) {
          ctx.reporter.emit({ kind: "info", message: "no release deployed yet; run `pnpm turbo run production-deploy`" });
          return;
        }
        await rollbackApps(ctx, current, "deploy");
        ctx.reporter.emit({ kind: "info", message: `serving at ${provider.publicUrl()}` });
        return;
      }
      throw new UsageError(`unknown local command "${sub}"`, { fix: "Use `pnpm ops:local up`, `down` or `status`." });
    },
  });
