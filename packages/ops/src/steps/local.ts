import { rmSync } from "node:fs";
import { defineOps } from "../cli/run-ops.ts";
import { UsageError } from "../errors.ts";
import { readAppState } from "../local/app-state.ts";
import { LocalProvider } from "../local/provider.ts";
import { postgresDataDir, stopLocalPostgres } from "../local/postgres.ts";
import { stopRouter } from "../local/router.ts";
import { targetDatabaseUrl } from "../target-db.ts";
import { rollbackApps } from "./rollback.ts";
import { statusCommand } from "./status.ts";

/** `pnpm ops:local up|down|status`: the processes of the local target. */
export const localCommand = () =>
  defineOps({
    name: (pos) => `local ${pos[0] ?? "status"}`,
    description: "local target processes: `up` restarts the current releases, `down` stops everything (--purge deletes the local state), `status` shows them",
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
          rmSync(postgresDataDir(provider.paths), { recursive: true, force: true });
          rmSync(provider.paths.root, { recursive: true, force: true });
          ctx.reporter.emit({ kind: "warn", message: `deleted ${provider.paths.root} (releases, database, generated secrets)` });
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
