// The pipeline steps on the fly target, in-process and in graph order (preflight → secrets sync →
// deploy backend → smoke → finish), each as a dry run then apply with a scripted flyctl carried
// from step to step: every dry run writes nothing and prints what apply runs. Then the failure
// paths: a refused lock, a failed preflight check, a failed smoke check (automatic rollback) and
// a failed `fly secrets deploy` in finish, each leaving the lock free and the run closed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { finishCommand } from "../../src/steps/finish.ts";
import { localCommand } from "../../src/steps/local.ts";
import { lockCommand } from "../../src/steps/lock.ts";
import { deployCommand } from "../../src/steps/deploy.ts";
import { preflightCommand } from "../../src/steps/preflight.ts";
import { secretsCommand } from "../../src/steps/secrets.ts";
import { smokeCommand } from "../../src/steps/smoke.ts";
import { CURRENT, type FlySteps, flySteps, holderGone, opsRows } from "../setup/fly-steps.ts";
import type { ScriptedFailure, ScriptedWorld } from "../setup/scripted-fly.ts";
import { type AnyCommand, appliedActions, argvOf, dryThenApply, runStep, snapshot } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("pipeline-fly");
});
afterAll(() => w?.close());
afterEach(async () => {
  w.site.mode = "healthy";
  // A test that failed halfway leaves its run's lock: free it for the next one.
  await holderGone(w.db, w.env).catch(() => undefined);
  await runStep(lockCommand(), { positionals: ["break"] }, { ...w.context(), flags: { yes: true } });
});

const seen = () => ({ stateDir: w.stateDir, dbUrl: w.db.url });

/** The scripted flyctl and tools of one pipeline: the world goes on from step to step. */
function pipeline(start: ScriptedWorld = w.world()) {
  let world = start;
  return {
    context: (opts: { failures?: ScriptedFailure[] } = {}) => {
      return w.context({ world, flags: { pipeline: true }, ...opts });
    },
    /** After an apply: the next step starts from what Fly holds now. */
    advance: () => {
      world = w.lastFly().world;
    },
  };
}

async function apply(p: ReturnType<typeof pipeline>, command: AnyCommand, positionals: string[] = [], failures?: ScriptedFailure[]) {
  const r = await runStep(command, { positionals }, p.context(failures ? { failures } : {}));
  p.advance();
  return r;
}

describe("the fly pipeline, step by step: dry run = apply", () => {
  it("preflight → secrets sync → deploy backend → smoke → finish", async () => {
    const p = pipeline();
    const step = async (command: () => AnyCommand, positionals: string[] = []) => {
      const r = await dryThenApply(command, { positionals }, () => p.context(), seen());
      p.advance();
      return r;
    };

    const preflight = await step(() => preflightCommand());
    expect(preflight.printed.map((a) => a.kind)).toEqual(["db", "file"]);
    expect(preflight.live.events.filter((e) => e.kind === "check" && e.result.status === "fail")).toEqual([]);
    const runId = preflight.live.ctx.runs.currentRunId()!;
    expect((await opsRows(w.db, w.env)).locked).toBe(true);

    const sync = await step(secretsCommand, ["sync"]);
    // In a run, the sync only stages: the deploys apply them.
    expect(sync.printed.filter((a) => a.kind === "cmd").map((a) => a.argv!.slice(1, 3).join(" "))).toEqual([
      "secrets import",
      "secrets import",
    ]);

    const deploy = await step(deployCommand, ["backend"]);
    expect(deploy.printed.map((a) => a.kind)).toEqual(["cmd", "check"]);
    expect(deploy.live.commands.find((c) => c.args[0] === "deploy")!.args).toContain(`RELEASE_ID=${runId}`);

    const smoke = await step(smokeCommand);
    expect(appliedActions(smoke.live)).toEqual([
      expect.objectContaining({ kind: "http", path: join(w.stateDir, "runs", runId, "smoke-report.json") }),
    ]);
    expect(smoke.printed[0]!.description).toContain(`proving backend=${runId}, client=${CURRENT}`);

    // The client was not deployed in this run: finish applies its staged secrets (C-09).
    const finish = await step(finishCommand);
    expect(finish.printed.map((a) => `${a.kind} ${a.argv?.join(" ") ?? ""}`.trim())).toEqual([
      `cmd flyctl secrets deploy -a ${w.apps.client}`,
      "db",
      "file",
    ]);
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "deploy", status: "succeeded", releases: { backend: { from: CURRENT, to: runId } } });
    expect(readFileSync(join(w.stateDir, "runs", runId, "report.md"), "utf8")).toContain(runId);
    expect(w.lastFly().world.apps[w.apps.client]!.secrets.map((s) => s.status)).toEqual(["Deployed", "Deployed"]);
  });
});

describe("the fly pipeline: failures leave the lock free and the run closed", () => {
  it("a refused lock: the second preflight names the holder and opens no run", async () => {
    const p = pipeline();
    expect((await apply(p, preflightCommand())).error).toBeUndefined();
    const before = await snapshot(w.stateDir);
    const r = await apply(p, preflightCommand());
    expect(r.error?.name).toBe("LockError");
    expect(r.error?.message).toMatch(new RegExp(`^environment "${w.env}" is locked by .+ \\(run \\S+, deploy of `));
    expect(r.error?.fix).toBe(
      "Wait for that deploy to finish, or run this again with a wait (OPS_LOCK_WAIT=10m pnpm turbo run production-deploy); if it died on another machine, run `pnpm ops:lock break --yes` (a dead run on this machine is taken over by itself).",
    );
    expect(await snapshot(w.stateDir)).toEqual(before);
    expect((await opsRows(w.db, w.env)).locked).toBe(true);
    // Clean up for the next test: the holder is gone.
    await holderGone(w.db, w.env);
    expect((await runStep(lockCommand(), { positionals: ["break"] }, { ...w.context(), flags: { yes: true } })).error).toBeUndefined();
    expect((await opsRows(w.db, w.env)).locked).toBe(false);
  });

  it("a failed check: preflight names it, opens no run and takes no lock", async () => {
    const before = await snapshot(w.stateDir, w.db.url);
    const r = await runStep(
      preflightCommand(),
      {},
      pipeline().context({
        failures: [{ match: (a) => a[0] === "flyctl" && a[1] === "version", message: "FLY_CONFIG_DIR is not writable" }],
      }),
    );
    expect(r.error?.name).toBe("PreflightError");
    expect(r.error?.message).toBe("1 check failed: fly.cli");
    expect(r.events).toContainEqual({ kind: "check", result: expect.objectContaining({ id: "fly.cli", status: "fail" }) });
    expect(await snapshot(w.stateDir, w.db.url)).toEqual(before);
  });

  it("a failed smoke check rolls back the app the run deployed and marks the run rolled-back", async () => {
    const p = pipeline();
    expect((await apply(p, preflightCommand())).error).toBeUndefined();
    expect((await apply(p, secretsCommand(), ["sync"])).error).toBeUndefined();
    expect((await apply(p, deployCommand(), ["backend"])).error).toBeUndefined();
    w.site.mode = "wrong-schema";
    const r = await apply(p, smokeCommand());
    expect(r.error?.name).toBe("SmokeCheckError");
    expect(r.error?.message).toMatch(
      /^1 smoke check failed:\n {2}healthz proves the release: GET \/healthz on 127\.0\.0\.1:\d+ failed after 1 attempt: schema version 1, expected 2\n/,
    );
    const rollback = r.commands.map(argvOf).filter((a) => a[1] === "deploy");
    expect(rollback).toHaveLength(1);
    expect(rollback[0]).toEqual(expect.arrayContaining(["-a", w.apps.backend, "--image", `registry.fly.io/${w.apps.backend}:${CURRENT}`]));
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "deploy", status: "rolled-back" });
    expect(p.context().fly.world.apps[w.apps.backend]!.releaseId).toBe(CURRENT);
  });

  it("a failed fly secrets deploy in finish names the app that still runs the old values", async () => {
    const p = pipeline();
    expect((await apply(p, preflightCommand())).error).toBeUndefined();
    expect((await apply(p, secretsCommand(), ["sync"])).error).toBeUndefined();
    expect((await apply(p, deployCommand(), ["backend"])).error).toBeUndefined();
    expect((await apply(p, smokeCommand())).error).toBeUndefined();
    const runId = p.context().fly.world.apps[w.apps.backend]!.releaseId!;
    const r = await apply(p, finishCommand(), [], [{ match: (a) => a[2] === "deploy", message: "no machines available to deploy" }]);
    expect(r.error?.name).toBe("DeployError");
    expect(r.error?.message).toBe(
      `${w.apps.client} still runs the old values of SESSION_SECRET, BACKEND_AUTH_TOKEN: fly secrets deploy of ${w.apps.client} failed: flyctl error\n    Error: no machines available to deploy`,
    );
    expect(r.error?.fix).toContain(`fly secrets deploy -a ${w.apps.client}`);
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "deploy", status: "failed" });
    expect(existsSync(join(w.stateDir, "runs", runId, "report.md"))).toBe(false);
  });

  it("ops:local up on fly is refused: fly has no processes on this machine", async () => {
    const r = await runStep(localCommand(), { positionals: ["up"] }, w.context());
    expect(r.error?.message).toBe('ops:local manages the processes of a target on this machine, but OPS_TARGET is "fly"');
    expect(r.error?.fix).toBe("Unset OPS_TARGET.");
    expect(r.commands).toEqual([]);
  });
});
