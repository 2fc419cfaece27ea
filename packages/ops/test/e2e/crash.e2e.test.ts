// kill -9 of the whole pipeline at each step boundary of the turbo graph, then one plain rerun:
// it must take the lock at once, close the killed run in the history, repair the state, leave
// exactly one supervised copy of each app, one router and one Postgres, and serve its own release.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/local/process-utils.ts";
import { countProcesses, freshEnvironment, getJson, pnpm, repoRoot, inherited } from "./harness.ts";

/** One supervisor and one app per app, one router, the Postgres entry and its server. */
const SETTLED = { supervisor: 2, app: 2, router: 1, "postgres entry": 1, "postgres server": 1 };

/**
 * The step boundaries of `turbo run production-deploy` (one per task of turbo.json's graph), each as
 * the output line that shows the pipeline has reached it. The kill lands right after that line.
 */
const BOUNDARIES: { name: string; reached: RegExp }[] = [
  // preflight opened the run and holds the lock; nothing is built or deployed yet.
  { name: "preflight", reached: /run \d{8}-\d{6}-[0-9a-f]{4} opened/ },
  // the builds run after preflight, under the lock: killed while turbo replays or runs them.
  { name: "build", reached: /^(client|backend):production-build: /m },
  // the first app's build is being snapshotted for this run; the second is not yet.
  { name: "artifacts", reached: /production-artifacts: {3}\[1\/2\] snapshot / },
  { name: "secrets sync", reached: /production-sync-secrets: ✔ secrets sync done/ },
  { name: "migrate", reached: /db-migrate: ✔ migrate done/ },
  // the backend's router already points at the new release, which the state does not record yet.
  { name: "backend deploy", reached: /backend: 127\.0\.0\.1:\d+ now routes to release/ },
  // the client's new release runs but gets no traffic yet.
  { name: "client deploy", reached: /client: started release \S+ on/ },
  // smoke passed; the last task has not closed the run.
  { name: "smoke/finish", reached: /production-smoke: ✔ smoke done/ },
];

/** Starts the pipeline (or `args`) and kills its whole process group with SIGKILL once `reached` shows. */
async function killWhen(
  env: Record<string, string | undefined>,
  reached: RegExp,
  args = ["turbo", "run", "production-deploy"],
): Promise<string> {
  const merged = Object.fromEntries(Object.entries({ ...inherited(), ...env }).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const child = spawn("pnpm", args, { cwd: repoRoot, env: merged, detached: true, stdio: "pipe" });
  let out = "";
  const closed = new Promise((r) => child.on("close", r));
  await new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      out += d;
      if (reached.test(out)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void closed.then(() => resolve());
  });
  expect(out, "the pipeline ended before the kill point").toMatch(reached);
  // turbo runs each task in a process group of its own: kill those too, as a CI cancel or a
  // closed container would (the detached helpers carry no OPS_STATE_DIR and survive, as they must).
  process.kill(-child.pid!, "SIGKILL");
  // Swept until none is left: a process that was starting a child while being killed can leave one.
  for (let left = pipelineProcesses(env); left.length > 0; left = pipelineProcesses(env).filter(isAlive)) {
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await closed;
  return out;
}

/** Processes of this environment's pipeline run (pnpm, turbo, the tasks): their environment names its state folder. */
function pipelineProcesses(env: Record<string, string | undefined>): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        return pid !== process.pid && readFileSync(`/proc/${pid}/environ`, "utf8").includes(`OPS_STATE_DIR=${env.OPS_STATE_DIR}\0`);
      } catch {
        return false;
      }
    });
}

describe("kill -9 of the whole pipeline at each step boundary, then one rerun", () => {
  let env: Record<string, string | undefined>;
  beforeAll(async () => {
    env = await freshEnvironment("e2e-crash");
    const first = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(first.code, first.out).toBe(0);
  });
  afterAll(async () => {
    if (env) await pnpm(["ops:local", "down", "--purge", "--yes"], env);
  });

  it.each(BOUNDARIES)("killed at $name: the next run converges with no manual step and no stray process", async ({ reached }) => {
    const out = await killWhen(env, reached);
    expect(pipelineProcesses(env).filter(isAlive)).toEqual([]);
    const killedRun = out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)?.[1];

    const next = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(next.code, next.out).toBe(0);
    const rerun = next.out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;
    if (killedRun) {
      // The killed run held the lock: taken over at once (its process is gone), and closed in the history.
      expect(next.out).toMatch(new RegExp(`took over the deploy lock of .*run ${killedRun}.*: its process \\d+ on .* is gone`));
      const history = await pnpm(["ops:history", "--json"], env);
      const runs = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data as {
        runId: string;
        status: string;
        error?: string;
      }[];
      expect(runs.find((r) => r.runId === killedRun)).toMatchObject({ status: "failed", error: expect.stringContaining("abandoned") });
    }
    const health = await getJson(`http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}/healthz`);
    expect(health.status).toBe(200);
    expect([health.body.client.release, health.body.backend.release]).toEqual([rerun, rerun]);
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("killed while `ops:local up` starts the client: one more `ops:local up` leaves one supervised copy, recorded", async () => {
    expect((await pnpm(["ops:local", "down"], env)).code).toBe(0);
    await killWhen(env, /client: started release \S+ on/, ["ops:local", "up"]);
    const up = await pnpm(["ops:local", "up"], env);
    expect(up.code, up.out).toBe(0);
    const status = await pnpm(["ops:status"], env);
    expect(status.out).not.toContain("state is behind the processes");
    expect(status.out).toMatch(/client +\S+ +running +\d+\/\d+/);
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("`ops:local down` stops every process of the environment, an app whose supervisor was killed included", async () => {
    const status = await pnpm(["ops:status", "--json"], env);
    const apps = JSON.parse(status.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data.apps as {
      app: string;
      pids: string;
    }[];
    // kill -9 of the client's supervisor leaves its app running, unsupervised
    const supervisor = Number(apps.find((a) => a.app === "client")!.pids.split("/")[0]);
    process.kill(supervisor, "SIGKILL");
    const text = await pnpm(["ops:status"], env);
    expect(text.out).toMatch(/client +\S+ +unsupervised \(its supervisor is gone; the app still runs\) +-\/\d+/);
    expect(text.out).toContain("start it again under a supervisor: `pnpm ops:local up`");
    expect(countProcesses(env)).toEqual({ ...SETTLED, supervisor: 1 });

    const down = await pnpm(["ops:local", "down"], env);
    expect(down.code, down.out).toBe(0);
    expect(countProcesses(env)).toEqual({ supervisor: 0, app: 0, router: 0, "postgres entry": 0, "postgres server": 0 });

    // up twice: one copy of everything, not two
    for (const _ of [1, 2]) expect((await pnpm(["ops:local", "up"], env)).code).toBe(0);
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("with nothing serving, status says so with the command that fixes it, and smoke fails at once", async () => {
    const down = await pnpm(["ops:local", "down"], env);
    expect(down.code, down.out).toBe(0);
    const status = await pnpm(["ops:status"], env);
    expect(status.out).toMatch(/client release \S+ is stopped\n\s+fix: .*`pnpm ops:local up`/);
    const smoke = await pnpm(["ops:smoke"], env);
    expect(smoke.code).toBe(1);
    expect(smoke.out).toContain("the local router is not running");
    expect(smoke.out).toMatch(/failed after 1 attempt/);

    // With the client's port held by another program, `up` blames that port, its variable and the
    // holder, before it starts anything (Postgres included).
    const port = Number(env.OPS_LOCAL_CLIENT_PORT);
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(port, "127.0.0.1", r));
    try {
      const blocked = await pnpm(["ops:local", "up"], env);
      expect(blocked.code).toBe(1);
      expect(blocked.out).toContain(`127.0.0.1:${port} (OPS_LOCAL_CLIENT_PORT) is used by another program (held by pid ${process.pid}:`);
      expect(blocked.out).toContain("; nothing was started");
      expect(blocked.out).not.toContain("OPS_LOCAL_BACKEND_PORT");
      expect(countProcesses(env)).toEqual({ supervisor: 0, app: 0, router: 0, "postgres entry": 0, "postgres server": 0 });
    } finally {
      await new Promise((r) => holder.close(r));
    }
    expect((await pnpm(["ops:local", "up"], env)).code).toBe(0);
    expect(countProcesses(env)).toEqual(SETTLED);
  });

  it("a Postgres whose last start failed, or whose entry process was killed, starts again by itself", async () => {
    const stateFile = join(env.OPS_STATE_DIR!, "local", env.OPS_ENV!, "postgres", "server.json");
    expect((await pnpm(["ops:local", "down"], env)).code).toBe(0);
    const old = JSON.parse(readFileSync(stateFile, "utf8"));
    writeFileSync(stateFile, JSON.stringify({ ...old, pid: 999_999, status: "failed", error: "an earlier start failed" }));
    const up = await pnpm(["ops:local", "up"], env);
    expect(up.code, up.out).toBe(0);
    const running = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(running.status).toBe("ready");
    // kill -9 of the entry process leaves its server running, holding the port and the data folder
    process.kill(running.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    expect(isAlive(running.postgresPid)).toBe(true);
    const again = await pnpm(["ops:local", "up"], env);
    expect(again.code, again.out).toBe(0);
    expect(isAlive(running.postgresPid)).toBe(false);
    const status = await pnpm(["ops:status"], env);
    expect(status.out).toContain("deploy lock: free");
  });
});
