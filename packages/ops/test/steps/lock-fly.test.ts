// `lock status|break` on the fly target (the lock lives in the database MIGRATION_DATABASE_URL
// points at), in-process: break deletes the row exactly as the dry run printed, runs no flyctl
// command, and is refused without --yes. (The local target: test/steps/plans.test.ts.)
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordHistory } from "../../src/db/history.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { historyCommand } from "../../src/steps/history.ts";
import { processIdentity } from "../../src/pipeline/owner.ts";
import type { StepRecord } from "../../src/state/run-state.ts";
import { lockCommand } from "../../src/steps/lock.ts";
import { preflightCommand } from "../../src/steps/preflight.ts";
import { type FlySteps, flySteps, opsRows } from "../setup/fly-steps.ts";
import { dryThenApply, runStep, snapshot } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("lock-fly");
});
afterAll(() => w?.close());

/** The step file a deploy of `app` from v1 to v2 writes in its run. */
const deployStep = (app: string): StepRecord => ({
  step: `deploy-${app}`,
  status: "succeeded",
  startedAt: new Date().toISOString(),
  durationMs: 900,
  detail: { app, previous: "v1", release: "v2" },
});

/** Sets the lock holder's process: `identity` (a live one), or one that is gone. */
async function setHolderProcess(identity: { pid: number; start: string } | "gone"): Promise<void> {
  const c = await w.db.connect();
  try {
    const owner = identity === "gone" ? { pid: 999_999, start: "gone" } : identity;
    await c.query("UPDATE ops.deploy_lock SET holder_host = $2, holder_pid = $3, holder_pid_start = $4 WHERE environment = $1", [
      w.env,
      hostname(),
      owner.pid,
      owner.start,
    ]);
  } finally {
    await c.end();
  }
}

/**
 * A holder that is gone: a run opened by the pipeline's preflight apply, never finished, whose
 * process is gone (in-process, the run's owner would be whatever turbo runs the tests, or none).
 */
async function abandonedRun(): Promise<string> {
  const r = await runStep(preflightCommand(), {}, w.context({ flags: { pipeline: true } }));
  expect(r.error).toBeUndefined();
  await setHolderProcess("gone");
  return r.ctx.runs.currentRunId()!;
}

describe("lock on fly", () => {
  it("status reads the holder without writing; break --yes deletes it as printed", async () => {
    const runId = await abandonedRun();
    const before = await snapshot(w.stateDir, w.db.url);
    const status = await runStep(lockCommand(), { positionals: ["status"] }, w.context());
    expect(await snapshot(w.stateDir, w.db.url)).toEqual(before);
    expect(status.events).toContainEqual({ kind: "info", message: expect.stringMatching(new RegExp(`^held by .+ \\(run ${runId}, `)) });
    // What the run did before it was lost: its client deploy (the step file the deploy step writes).
    status.ctx.runs.writeStep(runId, deployStep("client"));

    const { printed, live } = await dryThenApply(
      lockCommand,
      { positionals: ["break"] },
      () => ({ ...w.context(), flags: { yes: true } }),
      { stateDir: w.stateDir, dbUrl: w.db.url },
    );
    expect(printed).toEqual([
      expect.objectContaining({
        kind: "db",
        description: expect.stringMatching(new RegExp(`^delete the deploy lock of "${w.env}" held by .+ \\(run ${runId}, `)),
      }),
    ]);
    expect(live.commands).toEqual([]);
    const rows = await opsRows(w.db, w.env);
    expect(rows.locked).toBe(false);
    // The broken holder's run is closed in the history and in this state folder, not left "running".
    expect(rows.history.at(-1)).toMatchObject({
      status: "failed",
      error: "abandoned: its deploy lock was broken (pnpm ops:lock break)",
      releases: { client: { from: "v1", to: "v2" } },
    });
    expect(live.ctx.runs.read(runId)).toMatchObject({
      status: "failed",
      error: "abandoned: its deploy lock was broken (pnpm ops:lock break)",
    });
    expect(live.ctx.runs.currentRunId()).toBeUndefined();
  });

  it("a run still recorded as running without the lock is recorded as failed by the next run that takes the lock", async () => {
    const c = await w.db.connect();
    try {
      await ensureOpsSchema(c);
      await recordHistory(c, {
        runId: "20261207-000000-dead",
        environment: w.env,
        target: "fly",
        kind: "deploy",
        status: "running",
        actor: "bob",
        host: "ci-runner",
        gitSha: "0123456789abcdef",
        startedAt: new Date("2026-12-07T00:00:00.000Z"),
        releases: {},
        migrationsApplied: [],
        durationsMs: {},
      });
    } finally {
      await c.end();
    }
    // It ran from this state folder and had deployed the backend before it was killed.
    const dead = "20261207-000000-dead";
    const runs = (await runStep(lockCommand(), { positionals: ["status"] }, w.context())).ctx.runs;
    mkdirSync(join(runs.runDir(dead), "steps"), { recursive: true });
    writeFileSync(
      join(runs.runDir(dead), "run.json"),
      JSON.stringify({
        runId: dead,
        environment: w.env,
        target: "fly",
        actor: "bob",
        host: "ci-runner",
        gitSha: "0123456789abcdef",
        startedAt: "2026-12-07T00:00:00.000Z",
        status: "running",
      }),
    );
    runs.writeStep(dead, deployStep("backend"));
    // Until then ops:history shows it as abandoned, not running, with what its steps recorded.
    const shown = await runStep(historyCommand(), { values: { limit: "20" } }, w.context());
    expect(shown.error).toBeUndefined();
    const result = shown.events.find((e) => e.kind === "result") as { data: { runId: string; status: string; notEnded?: string }[] };
    expect(result.data.find((e) => e.runId === "20261207-000000-dead")).toMatchObject({
      status: "running",
      releases: { backend: { from: "v1", to: "v2" } },
      notEnded: "it holds no deploy lock, so it is not running; the next run records it as failed",
    });
    const table = shown.events.find((e) => e.kind === "table") as { rows: string[][] };
    expect(table.rows.find((row) => row[0] === "20261207-000000-dead")?.[2]).toBe("abandoned");

    const r = await runStep(preflightCommand(), {}, w.context({ flags: { pipeline: true } }));
    const runId = r.ctx.runs.currentRunId()!;
    expect(r.events).toContainEqual({
      kind: "warn",
      message:
        "run 20261207-000000-dead (bob@ci-runner) was still recorded as running without the deploy lock; recorded as failed (abandoned)",
      fix: "Nothing to do; `pnpm ops:history` shows it.",
    });
    const { history } = await opsRows(w.db, w.env);
    expect(history.filter((h) => h.status === "running")).toHaveLength(1);
    expect(history.find((h) => String(h.error).includes("20261207"))).toMatchObject({
      status: "failed",
      releases: { backend: { from: "v1", to: "v2" } },
      error: `abandoned: still recorded as running when run ${runId} took the deploy lock`,
    });
    await setHolderProcess("gone");
    await runStep(lockCommand(), { positionals: ["break"] }, { ...w.context(), flags: { yes: true } });
  });

  it("a run killed in finish (its run.json already says succeeded, its row and lock not closed) is recorded as failed, abandoned, with its releases", async () => {
    const runId = await abandonedRun();
    const t = await runStep(lockCommand(), { positionals: ["status"] }, w.context());
    t.ctx.runs.writeStep(runId, deployStep("backend"));
    t.ctx.runs.update(runId, { status: "succeeded", finishedAt: new Date().toISOString() });
    const broke = await runStep(lockCommand(), { positionals: ["break"] }, { ...w.context(), flags: { yes: true } });
    expect(broke.error).toBeUndefined();
    expect((await opsRows(w.db, w.env)).history.at(-1)).toMatchObject({
      status: "failed",
      error: "abandoned: its deploy lock was broken (pnpm ops:lock break)",
      releases: { backend: { from: "v1", to: "v2" } },
    });
  });

  it("break of a lock whose holder still runs on this host is refused, naming its process", async () => {
    await abandonedRun();
    await setHolderProcess(processIdentity(process.pid)!);
    const r = await runStep(lockCommand(), { positionals: ["break"] }, { ...w.context(), flags: { yes: true } });
    expect(r.error?.name).toBe("LockError");
    expect(r.error?.message).toMatch(
      new RegExp(`^the deploy lock of "${w.env}" is held by a run that is still running: .+, process ${process.pid}$`),
    );
    expect(r.error?.fix).toContain(`kill -TERM ${process.pid}`);
    expect((await opsRows(w.db, w.env)).locked).toBe(true);
    await setHolderProcess("gone");
    expect((await runStep(lockCommand(), { positionals: ["break"] }, { ...w.context(), flags: { yes: true } })).error).toBeUndefined();
  });

  it("break without --yes is refused and deletes nothing", async () => {
    await abandonedRun();
    const r = await runStep(lockCommand(), { positionals: ["break"] }, w.context());
    expect(r.error?.message).toBe("breaking the deploy lock needs --yes");
    expect(r.error?.fix).toBe("Make sure the holder is really gone (pnpm ops:lock status), then run `pnpm ops:lock break --yes`.");
    expect((await opsRows(w.db, w.env)).locked).toBe(true);
  });
});
