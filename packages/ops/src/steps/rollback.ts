import { createInterface } from "node:readline/promises";
import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { listHistory } from "../db/history.ts";
import { restoreOpsState, snapshotOpsState } from "../db/ops-snapshot.ts";
import { RollbackError, UsageError } from "../errors.ts";
import { flyTarget } from "../fly/context.ts";
import { neonFor } from "../fly/neon.ts";
import { readAppState, rollbackTarget } from "../local/app-state.ts";
import { LocalProvider } from "../local/provider.ts";
import { describeRestorePlan, planDatabaseRestore, restoreFromRestorePoint } from "../neon/restore-point.ts";
import { withStandaloneRun } from "../pipeline/standalone.ts";
import { resolveLocalSecrets } from "../secrets/local-source.ts";
import { withTargetDb } from "../target-db.ts";
import { currentReleases, smokeCheck, smokeExpectations } from "./smoke.ts";

/** One app's rollback, the same shape on both targets. */
export interface AppRollback {
  app: string;
  previous: string | null;
  release: string;
}

/**
 * Rolls the given apps back (in reverse deploy order unless `order` is `deploy`), each with
 * today's secrets and config (as on Fly: they are not rolled back). `to` is a release id on
 * local and `vN` on fly; without it, local takes the previous release and fly the newest complete
 * release with a different image than the running one (C-25).
 * @throws {RollbackError} when an app has no release to go back to or it does not become healthy.
 */
export async function rollbackApps(ctx: OpsContext, targets: { app: string; to?: string }[], order: "reverse" | "deploy" = "reverse"): Promise<AppRollback[]> {
  const apps = (order === "reverse" ? [...ctx.config.deployOrder].reverse() : ctx.config.deployOrder).filter((a) => targets.some((t) => t.app === a));
  const done: AppRollback[] = [];
  if (ctx.env.target === "fly") {
    const { provider } = flyTarget(ctx);
    for (const app of apps) {
      const plan = await provider.planRollback(app, targets.find((t) => t.app === app)!.to);
      if (!plan.target) throw new RollbackError(`${plan.flyApp}: ${plan.reason}`, { where: plan.flyApp, fix: `See \`fly releases -a ${plan.flyApp} --image\` and pass --to vN.` });
      ctx.reporter.emit({ kind: "info", message: `${app}: rolling ${plan.flyApp} back to v${plan.target.Version} image ${plan.target.ImageRef} (running: ${plan.running ?? "unknown"})` });
      const r = await provider.rollbackTo(app, plan.target);
      done.push({ app, previous: r.previous?.release ?? (r.previous ? `v${r.previous.version}` : null), release: r.release });
    }
    return done;
  }
  const provider = new LocalProvider(ctx.config, ctx.env);
  const resolved = resolveLocalSecrets(ctx.config, ctx.env, { create: false });
  for (const v of resolved.values.values()) ctx.addSecret(v);
  for (const app of apps) {
    const to = targets.find((t) => t.app === app)!.to;
    const secrets = new Map(ctx.config.apps[app]!.secrets.map((k) => [k, resolved.values.get(k)!]));
    done.push(await provider.rollback(app, secrets, { ...(to ? { to } : {}), onProgress: (message) => ctx.reporter.emit({ kind: "info", message }) }));
  }
  return done;
}

/** Per app: from → to, and whether it is possible, without changing anything. */
async function planAppRollback(ctx: OpsContext, apps: string[], app: string | undefined, to: string | undefined) {
  if (ctx.env.target === "fly") {
    const { provider } = flyTarget(ctx);
    return Promise.all(
      apps.map(async (a) => {
        const p = await provider.planRollback(a, a === app ? to : undefined);
        return { app: a, from: p.running ?? "(unknown)", to: p.target ? `v${p.target.Version} ${p.target.ImageRef}` : undefined, toArg: p.target ? `v${p.target.Version}` : undefined, since: p.target?.CreatedAt, reason: p.reason };
      }),
    );
  }
  const provider = new LocalProvider(ctx.config, ctx.env);
  return apps.map((a) => {
    const state = readAppState(provider.paths, a);
    const wanted = a === app ? to : undefined;
    const target = rollbackTarget(state, wanted);
    const known = state.releases.map((r) => `${r.id}${r.status === "failed" || r.failedSmoke ? " (failed)" : ""}`).join(", ") || "none";
    const reason = target ? undefined : wanted ? `no release "${wanted}" that can serve (known: ${known})` : "no earlier release that served";
    return { app: a, from: provider.currentRelease(a) ?? "(none)", to: target?.id, toArg: target?.id, since: target?.createdAt, reason };
  });
}

/** Migrations applied by runs after `since`: what an app rollback does not undo. */
async function migrationsSince(ctx: OpsContext, since: string | undefined): Promise<string[]> {
  if (!since) return [];
  const history = await withTargetDb(ctx, "deploy history", (c) => listHistory(c, ctx.env.environment, 200), { start: false }).catch(() => []);
  // Failed runs count too: migrations commit one by one, before any later step fails.
  return history.filter((h) => h.startedAt > new Date(since)).flatMap((h) => h.migrationsApplied).filter((m) => !m.startsWith("0_"));
}

async function confirm(ctx: OpsContext, question: string, expected: string): Promise<boolean> {
  if (ctx.flags.yes) return true;
  if (!process.stdin.isTTY || ctx.env.ci) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question} Type "${expected}" to go on: `)).trim() === expected;
  } finally {
    rl.close();
  }
}

/** `pnpm ops:rollback --db`: restore the production branch from the newest run's restore point. */
async function rollbackDatabase(ctx: OpsContext, restorePoint: string | undefined): Promise<void> {
  if (ctx.env.target !== "fly") throw new UsageError("--db restores the Neon branch from a restore point; the local target has none", { fix: "On the local target, roll forward with a new migration." });
  const { appsEnv } = flyTarget(ctx);
  const neon = neonFor(ctx, appsEnv);
  const pointId = restorePoint ?? (await withTargetDb(ctx, "deploy history", (c) => listHistory(c, ctx.env.environment, 50), { start: false })).find((h) => h.restorePoint)?.restorePoint;
  if (!pointId) throw new RollbackError("no restore point recorded in the deploy history", { fix: "Pass one explicitly: pnpm ops:rollback --db --restore-point br-…" });
  const plan = await planDatabaseRestore(neon.client, { projectId: neon.projectId, branchId: neon.branchId, restorePointBranchId: pointId });
  ctx.reporter.emit({ kind: "plan", step: "rollback --db", items: describeRestorePlan(plan) });
  if (ctx.flags.dryRun) return;
  if (!(await confirm(ctx, "This overwrites every database on the branch.", plan.target.name))) {
    throw new UsageError("the database restore needs confirmation", { fix: "Run it on a terminal and type the branch name, or pass --yes (CI)." });
  }
  await withStandaloneRun(ctx, "rollback", async () => {
    // The ops schema lives on the same branch: keep its history, ledger and settings across the restore.
    const snapshot = await withTargetDb(ctx, "deploy history", (c) => snapshotOpsState(c, ctx.env.environment));
    const r = await restoreFromRestorePoint(neon.client, plan, { poll: { intervalMs: ctx.config.neon.pollIntervalMs, timeoutMs: ctx.config.neon.pollTimeoutMs } });
    ctx.reporter.emit({ kind: "info", message: `restored ${plan.target.name} from ${pointId}; its previous state is kept as branch ${r.preservedBranchName} (${r.preservedBranchId})` });
    await withTargetDb(ctx, "deploy history", (c) => restoreOpsState(c, snapshot));
    ctx.reporter.emit({ kind: "info", message: `kept the deploy history (${snapshot.history.length} runs) and the secret ledger across the restore` });
    return { result: r, restorePoint: pointId };
  });
}

/**
 * `pnpm ops:rollback [--app <name>] [--to <release>]`: each app back to its previous release (or
 * the one named), then a smoke check of what serves. `--db` (fly) restores the database instead.
 * `--dry-run` prints the plan.
 */
export const rollbackCommand = () =>
  defineOps({
    name: "rollback",
    description: "roll apps back to their previous release (or --to) and smoke-check them; --db restores the Neon branch from the run's restore point",
    usage: ["pnpm ops:rollback                      every app to its previous release, then smoke checks", "pnpm ops:rollback --app <app> [--to <release>]   one app (local: a release id; fly: vN)", "pnpm ops:rollback --db [--restore-point br-…]   fly: restore the Neon branch (asks, or --yes)"],
    options: { app: { type: "string" }, to: { type: "string" }, db: { type: "boolean", default: false }, "restore-point": { type: "string" } },
    async run(ctx, { values }) {
      if (values.db) return rollbackDatabase(ctx, values["restore-point"] as string | undefined);
      const app = values.app as string | undefined;
      const to = values.to as string | undefined;
      if (app && !ctx.config.apps[app]) throw new UsageError(`--app "${app}" is not an app`, { fix: `Use one of: ${ctx.config.deployOrder.join(", ")}.` });
      if (to && !app) throw new UsageError("--to needs --app (releases are per app)", { fix: "pnpm ops:rollback --app client --to <release>" });
      // Listed in the order they run: reverse deploy order (the client before the backend).
      const apps = app ? [app] : [...ctx.config.deployOrder].reverse();
      const plan = await planAppRollback(ctx, apps, app, to);
      ctx.reporter.emit({ kind: "plan", step: "rollback", items: plan.map((p) => `${p.app}: ${p.from} → ${p.to ?? `impossible (${p.reason})`}`) });
      const oldest = plan.map((p) => p.since).filter(Boolean).sort()[0];
      const since = await migrationsSince(ctx, oldest);
      if (since.length > 0) {
        ctx.reporter.emit({ kind: "warn", message: `migrations applied since that release stay applied: ${since.join(", ")}`, fix: "Check the old release works with the new schema; restore the database with `pnpm ops:rollback --db` only if it must go back too." });
      }
      const impossible = plan.filter((p) => !p.toArg);
      if (impossible.length > 0) {
        throw new RollbackError(`nothing to roll back to for ${impossible.map((p) => `${p.app} (${p.reason})`).join(", ")}`, { fix: "See `pnpm ops:status` and `pnpm ops:history`." });
      }
      if (ctx.flags.dryRun) return;
      await withStandaloneRun(ctx, "rollback", async (run) => {
        const done = await rollbackApps(ctx, plan.map((p) => ({ app: p.app, to: p.toArg! })));
        const { results, reportPath } = await smokeCheck(ctx, await smokeExpectations(ctx, await currentReleases(ctx)), join(ctx.env.stateDir, "smoke", ctx.env.environment, run.runId));
        if (!results.every((r) => r.ok)) {
          throw new RollbackError(`the rolled-back releases do not pass the smoke checks: ${results.filter((r) => !r.ok).map((r) => `${r.name} (${r.reason})`).join("; ")}`, { where: reportPath, fix: "Check `pnpm ops:status`; roll back further with --to, or deploy a fix." });
        }
        return { result: done, releases: Object.fromEntries(done.map((d) => [d.app, { from: d.previous, to: d.release }])) };
      });
    },
  });
