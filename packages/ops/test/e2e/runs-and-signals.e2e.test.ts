// One run at a time, and runs that end as they should: a second run refused by the deploy lock
// changes nothing of the first (not even with a source change that would rebuild the client), and
// an interrupted run exits 128 + the signal's number, says which signal, and frees the lock.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshEnvironment, getJson, pnpm, repoRoot, signalSession, startPipeline } from "./harness.ts";
import { folderSnapshot } from "./snapshot.ts";

const RUN_ID = /run (\d{8}-\d{6}-[0-9a-f]{4}) opened/;
const page = join(repoRoot, "apps", "client", "app", "routes", "_index.tsx");
const MARK = "changed while another run deployed";

describe("one run at a time", () => {
  let env: Record<string, string | undefined>;
  let original: string;
  let url: string;
  beforeAll(async () => {
    env = await freshEnvironment("e2e-runs");
    url = `http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}`;
    original = readFileSync(page, "utf8");
  });
  afterAll(async () => {
    if (original !== undefined) writeFileSync(page, original);
    if (env) await pnpm(["ops:local", "down", "--purge", "--yes"], env);
  });

  it("a refused concurrent run (with a source change) leaves the first run green, serving its own build", async () => {
    const first = startPipeline(env);
    const runId = (await first.waitFor(RUN_ID))[1]!;
    // Hold the first run between its build snapshot and the client's deploy: the window in which
    // a second run's build used to rewrite apps/client/build under it.
    await first.waitFor(/client:deploy: ▶ deploy client/);
    signalSession(first.pid, "SIGSTOP");
    const store = join(env.OPS_STATE_DIR!, "artifacts");
    const runDir = join(env.OPS_STATE_DIR!, "runs", runId);
    let second: Awaited<ReturnType<typeof pnpm>>;
    let before: unknown;
    let after: unknown;
    try {
      before = {
        build: folderSnapshot(join(repoRoot, "apps", "client", "build")),
        store: folderSnapshot(store),
        run: folderSnapshot(runDir),
      };
      expect(original).toContain("<h1>Deploy ops demo</h1>");
      writeFileSync(page, original.replace("<h1>Deploy ops demo</h1>", `<h1>Deploy ops demo (${MARK})</h1>`));
      try {
        second = await pnpm(["turbo", "run", "production-deploy"], env);
      } finally {
        writeFileSync(page, original);
      }
      after = {
        build: folderSnapshot(join(repoRoot, "apps", "client", "build")),
        store: folderSnapshot(store),
        run: folderSnapshot(runDir),
      };
    } finally {
      signalSession(first.pid, "SIGCONT");
    }
    expect(second.code, second.out).not.toBe(0);
    expect(second.out).toContain(`environment "e2e-runs" is locked by`);
    expect(second.out).toContain(`(run ${runId}, deploy of`);
    // The refused run built nothing: its builds wait for the lock its preflight could not take.
    expect(second.out).not.toMatch(/production-build: (cache miss|cache hit)/);
    expect(after).toEqual(before);

    const res = await first.done;
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain(`Deploy ${runId} succeeded`);
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.client.release).toBe(runId);
    const home = await fetch(`${url}/`).then((r) => r.text());
    expect(home).toContain("<h1>Deploy ops demo</h1>");
    expect(home).not.toContain(MARK);
    // The release folder holds exactly the snapshot the run recorded.
    const recorded = JSON.parse(readFileSync(join(runDir, "steps", "artifacts.json"), "utf8")).detail.snapshots.client;
    const release = join(env.OPS_STATE_DIR!, "local", "e2e-runs", "apps", "client", "releases", runId);
    expect(folderSnapshot(join(release, "build"))).toEqual(folderSnapshot(join(recorded.dir, "build")));
    const deployStep = JSON.parse(readFileSync(join(runDir, "steps", "deploy-client.json"), "utf8"));
    expect(deployStep.detail.artifact).toBe(recorded.digest);
  });

  it("Ctrl-C while the backend's new release starts: no action starts after it, and a backend keeps serving", async () => {
    const run = startPipeline(env);
    const runId = (await run.waitFor(RUN_ID))[1]!;
    // The backend turns healthy within milliseconds: the deploy must not go on to switch traffic to a release the cleanup stops.
    await run.waitFor(/backend: started release \S+ on/);
    process.kill(-run.pid, "SIGINT");
    const res = await run.done;
    expect(res.code, res.out).toBe(130);
    expect(res.out).toContain("deploy backend: interrupted by SIGINT");
    const health = await getJson(`${url}/healthz`);
    expect(health.status, JSON.stringify(health.body)).toBe(200);
    expect(health.body.backend.status).toBe("SERVING");
    expect(health.body.client.release).not.toBe(runId);
    const status = await pnpm(["ops:status"], env);
    expect(status.out).toMatch(/backend +\S+ +running /);
    expect(status.out).not.toContain("is stopped");
  });

  it("kill -9 of pnpm and turbo only: the task they ran stops by itself and marks the run failed; the next run goes on", async () => {
    const run = startPipeline(env);
    const runId = (await run.waitFor(RUN_ID))[1]!;
    await run.waitFor(/client: started release \S+ on/);
    // The pipeline's own process group (pnpm, the wrapper, turbo): turbo runs each task in a group of its own.
    process.kill(-run.pid, "SIGKILL");
    await run.done;
    // The client's deploy task, orphaned, notices turbo is gone and stops (the test's timeout bounds the wait).
    while (deployTasks(env).length > 0) await new Promise((r) => setTimeout(r, 50));
    const history = await pnpm(["ops:history", "--json"], env);
    const runs = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data as {
      runId: string;
      status: string;
      error?: string;
    }[];
    expect(runs.find((r) => r.runId === runId)).toMatchObject({ status: "failed", error: "interrupted by SIGHUP" });
    // What serves is one release per app, recorded (the client's switch may have finished before the task noticed).
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    const status = await pnpm(["ops:status"], env);
    expect(status.out).not.toContain("is stopped");
    expect(status.out).not.toContain("repair");
    const next = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(next.code, next.out).toBe(0);
  });

  it.each([
    { signal: "SIGINT" as const, code: 130, other: "SIGTERM" },
    { signal: "SIGTERM" as const, code: 143, other: "SIGINT" },
  ])(
    "$signal to the pipeline's process group exits $code, names $signal, marks the run failed and frees the lock; the next run succeeds",
    async ({ signal, code, other }) => {
      const run = startPipeline(env);
      const runId = (await run.waitFor(RUN_ID))[1]!;
      // The client's new release is starting (an async health wait): the step can clean up at once.
      await run.waitFor(/client: started release \S+ on/);
      // What a terminal's Ctrl-C (SIGINT) or a CI cancel (SIGTERM) sends: the whole foreground process group.
      process.kill(-run.pid, signal);
      const res = await run.done;
      expect(res.code, res.out).toBe(code);
      expect(res.out).toContain(`deploy client: interrupted by ${signal}; the run was marked failed and its lock released`);
      expect(res.out).not.toContain(`interrupted by ${other}`);
      const history = await pnpm(["ops:history", "--json"], env);
      const runs = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data as {
        runId: string;
        status: string;
        error?: string;
      }[];
      expect(runs.find((r) => r.runId === runId)).toMatchObject({ status: "failed", error: `interrupted by ${signal}` });
      const lock = await pnpm(["ops:lock"], env);
      expect(lock.out).toContain("free");
      // What serves is what the step left: this run's backend (deployed), the client it never switched to stays the old one.
      const health = await getJson(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.body.backend.release).toBe(runId);
      expect(health.body.client.release).not.toBe(runId);
      const next = await pnpm(["turbo", "run", "production-deploy"], env);
      expect(next.code, next.out).toBe(0);
      expect(next.out).not.toContain("took over the deploy lock");
    },
  );
});

/** The deploy tasks of this environment's pipelines that still run (their environment names its state folder). */
function deployTasks(env: Record<string, string | undefined>): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/environ`, "utf8").includes(`OPS_STATE_DIR=${env.OPS_STATE_DIR}\0`) &&
          /prebuild\/run\.mjs\0deploy\0/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"))
        );
      } catch {
        return false;
      }
    });
}
