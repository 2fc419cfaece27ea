import { defineOps } from "../cli/run-ops.ts";
import { describeHolder, readLock } from "../db/lock.ts";
import { listHistory } from "../db/history.ts";
import { LocalProvider } from "../local/provider.ts";
import { runningPostgres } from "../local/postgres.ts";
import { withTargetDb } from "../target-db.ts";
import type { OpsContext } from "../context.ts";
import { flyTarget } from "../fly/context.ts";
import { currentRelease, machineImage, releaseIdOfImage } from "../fly/releases.ts";

/** `pnpm ops:status`: what runs where, the lock, and the last deploy. */
export const statusCommand = () =>
  defineOps({
    name: "status",
    description: "show each app's serving release and health, the deploy lock and the last run",
    async run(ctx) {
      if (ctx.env.target === "fly") return flyStatusReport(ctx);
      const provider = new LocalProvider(ctx.config, ctx.env);
      const rows = await provider.status();
      ctx.reporter.emit({ kind: "table", title: `Apps (${ctx.env.environment}, public URL ${provider.publicUrl()})`, columns: ["APP", "RELEASE", "STATE", "ADDRESS", "UPSTREAM", "HEALTH"], rows: rows.map((r) => [r.app, r.release ?? "-", r.state, r.address, r.upstream, r.health]) });
      const pg = runningPostgres(provider.paths);
      if (!ctx.env.databaseUrl && !pg) {
        ctx.reporter.emit({ kind: "info", message: "database: the local Postgres is not running (no lock or history to show); `pnpm ops:local up` starts it and the current releases" });
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

/** Fly: per app, the newest complete release, its image, machine states and checks (`fly releases`/`fly status --json`). */
async function flyStatusReport(ctx: OpsContext): Promise<void> {
  const { provider, appsEnv } = flyTarget(ctx);
  const rows: string[][] = [];
  const data = [];
  for (const app of ctx.config.deployOrder) {
    const [releases, status] = await Promise.all([provider.releases(app), provider.status(app)]);
    const cur = currentRelease(releases);
    const machines = status.Machines ?? [];
    const started = machines.filter((m) => m.state === "started").length;
    const checks = machines.flatMap((m) => m.checks ?? []);
    const passing = checks.filter((c) => c.status === "passing").length;
    const images = [...new Set(machines.map(machineImage).filter(Boolean))];
    rows.push([app, provider.flyApp(app), cur ? `v${cur.Version}` : "-", cur ? (releaseIdOfImage(cur.ImageRef) ?? "-") : "-", images.join(", ") || "-", `${started}/${machines.length} started`, checks.length ? `${passing}/${checks.length} passing` : "-"]);
    data.push({ app, flyApp: provider.flyApp(app), release: cur ?? null, machines: machines.map((m) => ({ id: m.id, state: m.state, image: machineImage(m) })) });
  }
  ctx.reporter.emit({ kind: "table", title: `Apps (${ctx.env.environment}, ${appsEnv.publicUrl})`, columns: ["APP", "FLY APP", "VERSION", "RELEASE", "IMAGE", "MACHINES", "CHECKS"], rows });
  const { lock, last } = await withTargetDb(ctx, "status", async (client) => ({ lock: await readLock(client, ctx.env.environment), last: (await listHistory(client, ctx.env.environment, 1))[0] }));
  ctx.reporter.emit({ kind: "info", message: `deploy lock: ${lock ? describeHolder(lock) : "free"}` });
  ctx.reporter.emit({ kind: "info", message: `last run: ${last ? `${last.runId} ${last.kind} ${last.status} by ${last.actor} at ${last.startedAt.toISOString()}${last.restorePoint ? `; restore point ${last.restorePoint}` : ""}` : "none"}` });
  ctx.reporter.emit({ kind: "result", step: "status", data: { apps: data, lock: lock ?? null, last: last ?? null } });
}
