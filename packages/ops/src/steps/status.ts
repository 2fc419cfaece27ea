import { defineOps } from "../cli/run-ops.ts";
import { describeHolder, readLock } from "../db/lock.ts";
import { listHistory } from "../db/history.ts";
import { LocalProvider } from "../local/provider.ts";
import { runningPostgres } from "../local/postgres.ts";
import { withTargetDb } from "../target-db.ts";
import { UsageError } from "../errors.ts";

/** `pnpm ops:status`: what runs where, the lock, and the last deploy. */
export const statusCommand = () =>
  defineOps({
    name: "status",
    description: "show each app's serving release and health, the deploy lock and the last run",
    async run(ctx) {
      if (ctx.env.target !== "local") throw new UsageError("the fly target is not available in this version", { fix: "Use OPS_TARGET=local." });
      const provider = new LocalProvider(ctx.config, ctx.env);
      const rows = await provider.status();
      ctx.reporter.emit({ kind: "table", title: `Apps (${ctx.env.environment}, public URL ${provider.publicUrl()})`, columns: ["APP", "RELEASE", "STATE", "ADDRESS", "UPSTREAM", "HEALTH"], rows: rows.map((r) => [r.app, r.release ?? "-", r.state, r.address, r.upstream, r.health]) });
      const pg = runningPostgres(provider.paths);
      if (!ctx.env.databaseUrl && !pg) {
        ctx.reporter.emit({ kind: "info", message: "database: the local Postgres is not running (no lock or history to show)" });
        ctx.reporter.emit({ kind: "result", step: "status", data: { apps: rows, database: "stopped" } });
        return;
      }
      ctx.reporter.emit({ kind: "info", message: `database: ${ctx.env.databaseUrl ? "DATABASE_URL" : `embedded Postgres on 127.0.0.1:${pg!.port} (pid ${pg!.pid})`}` });
      const { lock, last } = await withTargetDb(ctx, "status", async (client) => ({ lock: await readLock(client, ctx.env.environment), last: (await listHistory(client, ctx.env.environment, 1))[0] }), { start: false });
      ctx.reporter.emit({ kind: "info", message: `deploy lock: ${lock ? describeHolder(lock) : "free"}` });
      ctx.reporter.emit({ kind: "info", message: `last run: ${last ? `${last.runId} ${last.kind} ${last.status} by ${last.actor} at ${last.startedAt.toISOString()}` : "none"}` });
      ctx.reporter.emit({ kind: "result", step: "status", data: { apps: rows, lock: lock ?? null, last: last ?? null } });
    },
  });
