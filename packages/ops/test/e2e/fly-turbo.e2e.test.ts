// The real `pnpm turbo run production-deploy` on the fly target, in strict env mode, against the
// flyctl and Neon stand-ins. The only variable the stand-ins need that turbo.json does not pass
// (FAKE_FLY_STATE) is added the documented way, to globalPassThroughEnv of a copy of turbo.json
// handed to turbo with --root-turbo-json; PATH (the stand-in first) is passed by turbo itself.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/local/process-utils.ts";
import { createFakeFlyState, readFakeFlyState } from "../fixtures/flyctl/state.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";
import { startTestPg, type TestPgServer } from "../setup/pg-server.ts";
import { flyTestEnv, startFakeSite, writeFlyAppsEnv } from "./fly-world.ts";
import { pnpm, tempDir, tempRepo } from "./harness.ts";

const TOKEN = "FlyV1 fm2_turbo_e2e_token";
const CLIENT = "ops-turbo-client";
const BACKEND = "ops-turbo-backend";

const repo = tempRepo({
  opsConfig: (t) =>
    t
      .replace("deadlineMs: 90_000,", "deadlineMs: 8_000,")
      .replace('  migrationsDir: "migrations",', '  migrationsDir: "migrations",\n  neon: { pollIntervalMs: 50 },'),
});
const stateDir = tempDir("ops-fly-turbo-e2e-");
const flyState = join(stateDir, "fly-state.json");
const turboJson = join(repo.dir, "turbo.json");
let pg: TestPgServer;
let neon: FakeNeon;
let site: Server;
let env: Record<string, string | undefined>;
let deployed: { code: number | null; out: string };

const calls = () => readFakeFlyState(flyState).calls;
const turbo = (e: Record<string, string | undefined>) => pnpm(["turbo", "run", "production-deploy", "--root-turbo-json", turboJson], e);

beforeAll(async () => {
  // The documented way to pass one more variable: globalPassThroughEnv (here of the copy turbo is given).
  const json = JSON.parse(readFileSync(turboJson, "utf8")) as { globalPassThroughEnv: string[] };
  writeFileSync(turboJson, JSON.stringify({ ...json, globalPassThroughEnv: [...json.globalPassThroughEnv, "FAKE_FLY_STATE"] }, null, 2));

  pg = await startTestPg({ password: "pw" });
  neon = await startFakeNeon({ apiKey: "neon_api_PLACEHOLDER_TURBO_KEY" });
  neon.knobs.pollsToFinish = 1;
  createFakeFlyState(flyState, { validTokens: [TOKEN], apps: { [CLIENT]: {}, [BACKEND]: {} } });
  const started = await startFakeSite(flyState, { client: CLIENT, backend: BACKEND });
  site = started.server;
  mkdirSync(join(repo.dir, "infra", "fly"), { recursive: true });
  writeFlyAppsEnv(repo.dir, { client: CLIENT, backend: BACKEND }, started.port, neon, await freePort());
  writeFileSync(
    join(repo.dir, ".env.production"),
    [
      "DATABASE_URL=postgresql://app:pw@db.internal:5432/app?sslmode=require",
      "BACKEND_AUTH_TOKEN=turbo-e2e-shared-token",
      "SESSION_SECRET=turbo-e2e-session-secret",
    ].join("\n"),
    { mode: 0o600 },
  );
  env = flyTestEnv({
    stateDir,
    flyState,
    token: TOKEN,
    neon,
    pgPort: pg.port,
    extra: { OPS_REPO_ROOT: repo.dir, FLY_ACCESS_TOKEN: undefined },
  });
});

afterAll(async () => {
  site?.close();
  await neon?.close();
  await pg?.stop();
});

describe("pnpm turbo run production-deploy on the fly target (strict env mode)", () => {
  it("a needed variable missing in the shell: preflight fails with the clear message and nothing is deployed", async () => {
    const res = await turbo({ ...env, NEON_API_KEY: undefined });
    expect(res.code, res.out).not.toBe(0);
    expect(res.out).toContain("NEON_API_KEY is not set: no restore point can be taken before migrating");
    expect(res.out).toMatch(/check(s)? failed: .*database\.neon/);
    expect(calls().filter((c) => c.argv[0] === "deploy" || (c.argv[0] === "secrets" && c.argv[1] === "import"))).toEqual([]);
    expect(neon.state.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("deploys through turbo: secrets, restore point, backend then client, smoke; exit 0", async () => {
    const res = await turbo(env);
    deployed = res;
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("▶ preflight  target=fly env=production");
    expect(res.out).toContain("running as a turbo task");
    const runId = res.out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;
    const argv = calls().map((c) => c.argv.join(" "));
    const at = (pred: (a: string) => boolean) => {
      const i = argv.findIndex(pred);
      expect(i, argv.join("\n")).toBeGreaterThanOrEqual(0);
      return i;
    };
    const importBackend = at((a) => a.startsWith(`secrets import --stage -a ${BACKEND}`));
    const importClient = at((a) => a.startsWith(`secrets import --stage -a ${CLIENT}`));
    const deployBackend = at((a) => a.startsWith("deploy ") && a.includes(`-a ${BACKEND}`));
    const ipsBackend = at((a) => a === `ips list --json -a ${BACKEND}`);
    const deployClient = at((a) => a.startsWith("deploy ") && a.includes(`-a ${CLIENT}`));
    expect(importBackend).toBeLessThan(deployBackend);
    expect(importClient).toBeLessThan(deployClient);
    expect(deployBackend).toBeLessThan(ipsBackend);
    expect(ipsBackend).toBeLessThan(deployClient);
    expect(argv.filter((a) => a.startsWith("deploy ")).map((a) => a.match(/-a (\S+)/)![1])).toEqual([BACKEND, CLIENT]);
    // The token reached flyctl through the task's passThroughEnv, in every call that needs a session.
    for (const c of calls().filter((c) => c.argv[0] !== "version")) expect(c.env.FLY_API_TOKEN).toBe("set");
    // The restore point was taken (NEON_API_KEY reached db-migrate) before the backend deploy.
    expect(neon.state.branchByName(`restore-${runId}`).parent_id).toBe(neon.defaultBranchId);
    expect(res.out).toMatch(new RegExp(`Deploy ${runId} succeeded`));
  });

  it("authentik is off in production (no FLY_APP_AUTHENTIK): its task prints one line and nothing else about it runs", () => {
    // turbo frames each task (`authentik:deploy: …` prefix, the cache line, the script's command line);
    // what our steps print about authentik is what is left.
    const ours = deployed.out
      .split("\n")
      .map((l) => l.replace(/^authentik:deploy: /, ""))
      .filter((l) => /authentik/i.test(l) && !/^(cache |\$ |> |• Packages in scope)/.test(l.trim()) && !/^\s*(Tasks|Cached|Time):/.test(l));
    expect(ours).toEqual([
      "  authentik: off in production (FLY_APP_AUTHENTIK is not set in infra/fly/apps.env); nothing of it is synced, deployed or checked",
    ]);
    expect(calls().filter((c) => c.argv.join(" ").includes("authentik"))).toEqual([]);
  });
});
