// kill -9 in the middle of a deploy, then the next run: it must not wait out the lease, must
// close the killed run in the history, and must leave no process the state does not know of.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/local/process-utils.ts";
import { freshEnvironment, getJson, pnpm, repoRoot } from "./harness.ts";

/** Supervisor pids recorded in every release folder of an environment that are still alive. */
function liveSupervisors(env: Record<string, string | undefined>): number[] {
  const appsDir = join(env.OPS_STATE_DIR!, "local", env.OPS_ENV!, "apps");
  const pids: number[] = [];
  for (const app of readdirSync(appsDir)) {
    for (const rel of readdirSync(join(appsDir, app, "releases"))) {
      try {
        const pid = JSON.parse(readFileSync(join(appsDir, app, "releases", rel, "supervisor.json"), "utf8")).supervisorPid as number;
        if (isAlive(pid)) pids.push(pid);
      } catch {
        // no supervisor started in this folder
      }
    }
  }
  return pids;
}

describe("kill -9 of the whole pipeline during a deploy", () => {
  let env: Record<string, string | undefined>;
  beforeAll(async () => {
    env = await freshEnvironment("e2e-crash");
    const first = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(first.code, first.out).toBe(0);
  });
  afterAll(async () => {
    if (env) await pnpm(["ops:local", "down", "--purge"], env);
  });

  it("the next run takes the lock at once, closes the killed run, repairs the state, and stops what nothing serves", async () => {
    const merged = Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const child = spawn("pnpm", ["turbo", "run", "production-deploy"], {
      cwd: repoRoot,
      env: merged,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const deadline = Date.now() + 120_000;
    // The client's new release has started but traffic has not moved to it yet.
    while (!/client: started release \S+ on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(out).toMatch(/client: started release/);
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => child.on("close", r));
    const killedRun = out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;

    const next = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(next.code, next.out).toBe(0);
    expect(next.out).toMatch(new RegExp(`took over the deploy lock of .*run ${killedRun}.*: its process \\d+ on .* is gone`));
    // Which repair depends on where the kill landed: before the switch (a release that serves
    // nothing) or just after it (a release the router serves but the state never recorded).
    expect(next.out).toMatch(
      /repair: (stop client release \S+ \(supervisor pid \d+\): it runs but serves nothing|record that client release \S+ serves: the router sends its traffic there)/,
    );
    const history = await pnpm(["ops:history", "--json"], env);
    const runs = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data as {
      runId: string;
      status: string;
      error?: string;
    }[];
    expect(runs.find((r) => r.runId === killedRun)).toMatchObject({ status: "failed", error: expect.stringContaining("abandoned") });
    const health = await getJson(`http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}/healthz`);
    expect(health.status).toBe(200);
    // One supervisor per app serves; nothing else runs.
    expect(liveSupervisors(env)).toHaveLength(2);
    const down = await pnpm(["ops:local", "down"], env);
    expect(down.code, down.out).toBe(0);
    expect(liveSupervisors(env)).toEqual([]);
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
