// Zero failed requests through a switch: a bounded load on loopback (a few concurrent keep-alive
// loops over `/` and `/healthz`) runs only while a deploy or a rollback switches both apps; every
// answer must be 2xx. No timing is asserted, only that enough requests ran to mean something.
// The same environment walks A → B → rollback → C → rollback, which must land on A: "previous"
// is what served before, not what was created before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshEnvironment, getJson, pnpm } from "./harness.ts";

interface Load {
  /** Stops the loops and returns what they saw. */
  stop(): Promise<{ requests: number; failures: string[] }>;
}

/** `workers` loops, each alternating GET / and GET /healthz until stopped. */
function startLoad(baseUrl: string, workers = 4): Load {
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const loop = async () => {
    for (let i = 0; running; i++) {
      const path = i % 2 === 0 ? "/" : "/healthz";
      try {
        const res = await fetch(`${baseUrl}${path}`);
        const body = await res.text();
        if (res.status < 200 || res.status > 299) failures.push(`${path} → ${res.status} ${body.slice(0, 200)}`);
      } catch (err) {
        failures.push(`${path} → ${(err as Error).message} ${String((err as Error).cause ?? "")}`);
      }
      requests++;
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { requests, failures };
    },
  };
}

/** The releases `/healthz` proves, as `client/backend`. */
async function serving(baseUrl: string): Promise<string> {
  const h = await getJson(`${baseUrl}/healthz`);
  expect(h.status).toBe(200);
  return `${h.body.client.release}/${h.body.backend.release}`;
}

describe("deploy A, deploy B, rollback, deploy C, rollback: under load, and the second rollback lands on A", () => {
  let env: Record<string, string | undefined>;
  let baseUrl: string;
  const seen: Record<string, string> = {};
  beforeAll(async () => {
    env = await freshEnvironment("e2e-switch");
    baseUrl = `http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}`;
    const first = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(first.code, first.out).toBe(0);
    seen.A = await serving(baseUrl);
  });
  afterAll(async () => {
    if (env) await pnpm(["ops:local", "down", "--purge", "--yes"], env);
  });

  /** Runs `command` under load; every request must answer 2xx, and both apps must have switched. */
  async function underLoad(command: string[]): Promise<string> {
    const load = startLoad(baseUrl);
    const res = await pnpm(command, env);
    const result = await load.stop();
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/backend: 127\.0\.0\.1:\d+ now routes to release/);
    expect(res.out).toMatch(/client: 127\.0\.0\.1:\d+ now routes to release/);
    expect(result.failures).toEqual([]);
    expect(result.requests).toBeGreaterThan(100);
    return serving(baseUrl);
  }

  it("deploy B: every request to / and /healthz answers 2xx through the switch", async () => {
    seen.B = await underLoad(["turbo", "run", "production-deploy"]);
    expect(seen.B).not.toBe(seen.A);
  });

  it("rollback: back to A, every request 2xx", async () => {
    expect(await underLoad(["ops:rollback"])).toBe(seen.A);
  });

  it("deploy C, then rollback: lands on A (what served before C), not on B (rolled back away from)", async () => {
    seen.C = await underLoad(["turbo", "run", "production-deploy"]);
    expect([seen.A, seen.B]).not.toContain(seen.C);
    expect(await underLoad(["ops:rollback"])).toBe(seen.A);
  });
});
