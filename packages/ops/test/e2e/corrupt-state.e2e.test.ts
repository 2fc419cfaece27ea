// Damaged state files: each is either rebuilt from what runs (app state, server.json, the router's
// files) or gives one clear message naming the file and the command that repairs it (run.json, a
// step file), and a run that meets one releases the deploy lock.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countProcesses, freshEnvironment, getJson, PIPELINE_STEPS, runPipeline, tempRepo } from "./harness.ts";

const noStack = (out: string) => expect(out).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
/** Makes `dir` a read-only bind mount of itself (root only); returns the undo, or undefined when mounting is not allowed here. */
function readOnly(dir: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) return undefined;
  mkdirSync(dir, { recursive: true });
  if (spawnSync("mount", ["--bind", dir, dir]).status !== 0) return undefined;
  if (spawnSync("mount", ["-o", "remount,ro,bind", dir]).status !== 0) {
    spawnSync("umount", [dir]);
    return undefined;
  }
  return () => void spawnSync("umount", [dir]);
}
const canMount = (() => {
  const probe = readOnly(mkdtempSync(join(tmpdir(), "ops-ro-probe-")));
  probe?.();
  return probe !== undefined;
})();

const SETTLED = { supervisor: 2, app: 2, router: 1, "postgres entry": 1, "postgres server": 1 };

describe("a damaged state file", () => {
  const repo = tempRepo();
  let env: Record<string, string | undefined>;
  let local: string;
  const step = (name: string) => PIPELINE_STEPS.filter(([s, args]) => `${s} ${args[0]}`.startsWith(name));
  const currentRun = () => readdirSync(join(env.OPS_STATE_DIR!, "runs")).sort().at(-1)!;

  beforeAll(async () => {
    env = await freshEnvironment("e2e-corrupt");
    local = join(env.OPS_STATE_DIR!, "local", "e2e-corrupt");
    const first = await runPipeline(repo, env);
    expect(first.code, first.out).toBe(0);
  });
  afterAll(async () => {
    await repo.script("local", ["down", "--purge", "--yes"], env);
  });

  it("apps/<app>/state.json: status names the file and what repairs it; `ops:local up` rebuilds it from what the router serves", async () => {
    const serving = (await getJson(`http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}/healthz`)).body.client.release as string;
    const file = join(local, "apps", "client", "state.json");
    writeFileSync(file, '{"current": "half-writ');
    const status = await repo.script("status", [], env);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`${file} is damaged: rebuilt from the release folders and what runs`);
    expect(status.out).toContain("Repair it now: `pnpm ops:local up`.");
    const up = await repo.script("local", ["up"], env);
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain(
      `repair: record that client release ${serving} serves: the router sends its traffic there, but the state says none (its state file was damaged)`,
    );
    const after = await repo.script("status", [], env);
    expect(after.out).toMatch(new RegExp(`client +${serving} +running`));
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("postgres/server.json: rebuilt from the data folder's postmaster.pid, never blamed on 'another program'", async () => {
    writeFileSync(join(local, "postgres", "server.json"), '{"pid": 1, "sta');
    const up = await repo.script("local", ["up"], env);
    expect(up.code, up.out).toBe(0);
    expect(up.out).not.toContain("another program");
    const status = await repo.script("status", [], env);
    expect(status.out).toMatch(/database: embedded Postgres on 127\.0\.0\.1:\d+ \(server pid \d+, supervised by pid \d+\)/);
    expect(status.out).toContain("deploy lock: free");
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("router/routes.json and router/state.json: the next pipeline asks the router, repairs both and deploys", async () => {
    writeFileSync(join(local, "router", "routes.json"), "garbage{");
    writeFileSync(join(local, "router", "state.json"), '{"pid":');
    const res = await runPipeline(repo, env);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(
      /repair: rewrite the router's files from the router: .*state\.json and .*routes\.json are damaged while the router \(pid \d+\) runs/,
    );
    expect(res.out).not.toContain("another program");
    expect((await getJson(`http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}/healthz`)).status).toBe(200);
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("a step file: the next step names it and the command, marks the run failed and releases the lock", async () => {
    const opened = await runPipeline(repo, env, [...step("preflight"), ...step("secrets")]);
    expect(opened.code, opened.out).toBe(0);
    const file = join(env.OPS_STATE_DIR!, "runs", currentRun(), "steps", "sync-secrets.json");
    writeFileSync(file, "{");
    const deploy = await runPipeline(repo, env, step("deploy backend"));
    expect(deploy.code).toBe(1);
    expect(deploy.out).toContain(`the step record ${file} of run ${currentRun()} is damaged`);
    expect(deploy.out).toContain("Start a new run with `pnpm turbo run production-deploy`");
    noStack(deploy.out);
    const status = await repo.script("status", [], env);
    expect(status.out).toContain("deploy lock: free");
  });

  it("run.json: the next step names it and the command, and the lock is released by run id", async () => {
    const opened = await runPipeline(repo, env, step("preflight"));
    expect(opened.code, opened.out).toBe(0);
    const runId = currentRun();
    const file = join(env.OPS_STATE_DIR!, "runs", runId, "run.json");
    writeFileSync(file, '{"runId":');
    const sync = await runPipeline(repo, env, step("secrets"));
    expect(sync.code).toBe(1);
    expect(sync.out).toContain(`the state of run ${runId} is damaged: ${file} is not the run record JSON it should be`);
    expect(sync.out).toContain("Start a new run with `pnpm turbo run production-deploy`");
    expect(sync.out).toContain(`run ${runId} could not be marked failed`);
    expect(sync.out).toContain("its deploy lock was released");
    noStack(sync.out);
    const again = await runPipeline(repo, env);
    expect(again.code, again.out).toBe(0);
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  // A read-only state folder (a bind mount here; root only, skipped elsewhere): the step names the
  // path and the fix, exits 1 without a stack, and the lock is free afterwards.
  it.skipIf(!canMount)("a read-only runs folder, before preflight opens the run and in the middle of a run", async () => {
    const runs = join(env.OPS_STATE_DIR!, "runs");
    let undo = readOnly(runs)!;
    try {
      const pre = await runPipeline(repo, env, step("preflight"));
      expect(pre.code).toBe(1);
      expect(pre.out).toMatch(/cannot write .*\/runs\/\S+: the file system is read-only \(EROFS\)/);
      expect(pre.out).toContain("set OPS_STATE_DIR to a writable folder");
      noStack(pre.out);
    } finally {
      undo();
    }
    expect((await repo.script("status", [], env)).out).toContain("deploy lock: free");

    expect((await runPipeline(repo, env, step("preflight"))).code).toBe(0);
    undo = readOnly(runs)!;
    try {
      const sync = await runPipeline(repo, env, step("secrets"));
      expect(sync.code).toBe(1);
      expect(sync.out).toMatch(/cannot write .*sync-secrets\.json: the file system is read-only \(EROFS\)/);
      noStack(sync.out);
    } finally {
      undo();
    }
    expect((await repo.script("status", [], env)).out).toContain("deploy lock: free");
  });
});
