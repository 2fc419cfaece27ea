// Staging with the optional authentik app turned on: the real `pnpm turbo run production-deploy`
// on the fly target (OPS_ENV=staging) against the flyctl and Neon stand-ins deploys three apps —
// backend, authentik (a pinned prebuilt image, two process groups), client — after the migrations
// and before the smoke checks, each with exactly its secrets on stdin, and leaves production alone;
// then `pnpm ops:rollback --app authentik` takes authentik back by image. One deployed world for
// the whole file (CI time).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import repoConfig from "../../../../ops.config.ts";
import { freePort } from "../../src/local/process-utils.ts";
import { parseSecretsImport } from "../fixtures/flyctl/secrets-import-parser.ts";
import { createFakeFlyState, makeMachine, readFakeFlyState, seedReleases, updateFakeFlyState } from "../fixtures/flyctl/state.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";
import { startTestPg, type TestPgServer } from "../setup/pg-server.ts";
import { flyTestEnv, startFakeAuthentik, startFakeSite, writeFlyAppsEnv } from "./fly-world.ts";
import { pnpm, tempDir, tempRepo, type Ran } from "./harness.ts";

const TOKEN = "FlyV1 fm2_staging_authentik_token";
const STAGING = { client: "stg-client", backend: "stg-backend", authentik: "stg-authentik" };
const PRODUCTION = { client: "prod-client", backend: "prod-backend" };
const IMAGE = repoConfig.apps.authentik!.image!;
const OLD_IMAGE = "ghcr.io/goauthentik/server:2025.8.4";
// Planted values: they must reach flyctl on stdin and nowhere else.
const SECRETS: Record<string, string> = {
  DATABASE_URL: "postgresql://app:db-pw-PLANTED-41@ep-staging-41.us-east-2.aws.neon.tech/app?sslmode=require",
  BACKEND_AUTH_TOKEN: "backend-token-PLANTED-42",
  SESSION_SECRET: "session-secret-PLANTED-43",
  AUTHENTIK_SECRET_KEY: `authentik-key-PLANTED-44-${"k".repeat(40)}`,
  AUTHENTIK_POSTGRESQL__HOST: "ep-staging-45.us-east-2.aws.neon.tech",
  AUTHENTIK_POSTGRESQL__NAME: "authentik",
  AUTHENTIK_POSTGRESQL__USER: "authentik",
  AUTHENTIK_POSTGRESQL__PASSWORD: "authentik-pw-PLANTED-46",
  AUTHENTIK_POSTGRESQL__SSLMODE: "require",
};
const PLANTED = Object.values(SECRETS).filter((v) => v.includes("PLANTED"));

const repo = tempRepo({
  opsConfig: (t) =>
    t
      .replace("deadlineMs: 90_000,", "deadlineMs: 8_000,")
      .replace('  migrationsDir: "migrations",', '  migrationsDir: "migrations",\n  neon: { pollIntervalMs: 50 },'),
});
const stateDir = tempDir("ops-fly-staging-e2e-");
const flyState = join(stateDir, "fly-state.json");
const turboJson = join(repo.dir, "turbo.json");
let pg: TestPgServer;
let neon: FakeNeon;
let site: Server;
let authentik: Awaited<ReturnType<typeof startFakeAuthentik>>;
let env: Record<string, string | undefined>;
let deployed: Ran;
let productionBefore: unknown;

const calls = () => readFakeFlyState(flyState).calls;
const argvs = () => calls().map((c) => c.argv.join(" "));
/** The actions of the `plan` event of a `--json` run. */
const planOf = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { kind: string; actions?: { argv?: string[] }[] })
    .find((e) => e.kind === "plan")?.actions ?? [];
const production = () => Object.fromEntries(Object.values(PRODUCTION).map((a) => [a, readFakeFlyState(flyState).apps[a]]));

beforeAll(async () => {
  const json = JSON.parse(readFileSync(turboJson, "utf8")) as { globalPassThroughEnv: string[] };
  writeFileSync(turboJson, JSON.stringify({ ...json, globalPassThroughEnv: [...json.globalPassThroughEnv, "FAKE_FLY_STATE"] }, null, 2));
  pg = await startTestPg({ password: "pw" });
  neon = await startFakeNeon({ apiKey: "neon_api_PLACEHOLDER_STAGING_KEY" });
  neon.knobs.pollsToFinish = 1;
  createFakeFlyState(flyState, {
    validTokens: [TOKEN],
    apps: Object.fromEntries([...Object.values(STAGING), ...Object.values(PRODUCTION)].map((a) => [a, {}])),
  });
  // Production runs releases of its own; staging's authentik already runs an older pinned image in both groups.
  for (const a of Object.values(PRODUCTION))
    seedReleases(flyState, a, [{ version: 7, status: "complete", imageRef: `registry.fly.io/${a}:prod` }]);
  updateFakeFlyState(flyState, (s) => {
    seedReleases(s, STAGING.authentik, [{ version: 1, status: "complete", imageRef: OLD_IMAGE }]);
    const app = s.apps[STAGING.authentik]!;
    const release = app.releases[0]!;
    app.machines = ["server", "worker"].map((group) =>
      makeMachine(STAGING.authentik, { image: OLD_IMAGE, release, group, at: release.CreatedAt }),
    );
    s.knobs.knownImages = [IMAGE, OLD_IMAGE];
  });
  productionBefore = production();

  const started = await startFakeSite(flyState, STAGING);
  site = started.server;
  authentik = await startFakeAuthentik();
  const closed = await freePort();
  writeFlyAppsEnv(repo.dir, STAGING, started.port, neon, closed, {
    environment: "staging",
    lines: [`PUBLIC_URL_AUTHENTIK=http://127.0.0.1:${authentik.port}`],
  });
  writeFlyAppsEnv(repo.dir, PRODUCTION, started.port, neon, closed);
  writeFileSync(
    join(repo.dir, ".env.staging"),
    Object.entries(SECRETS)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
    { mode: 0o600 },
  );
  env = flyTestEnv({
    stateDir,
    flyState,
    token: TOKEN,
    neon,
    pgPort: pg.port,
    extra: { OPS_REPO_ROOT: repo.dir, OPS_ENV: "staging", FLY_ACCESS_TOKEN: undefined },
  });
  deployed = await pnpm(["turbo", "run", "production-deploy", "--root-turbo-json", turboJson], env);
});

afterAll(async () => {
  site?.close();
  authentik?.server.close();
  await neon?.close();
  await pg?.stop();
});

describe("staging with authentik on: pnpm turbo run production-deploy (fly target, stand-ins)", () => {
  it("deploys migrate → backend → authentik → client → smoke and succeeds", () => {
    expect(deployed.code, deployed.out).toBe(0);
    expect(deployed.out).toContain("▶ preflight  target=fly env=staging");
    expect(deployed.out).toMatch(/✔ image\.authentik\s+authentik runs ghcr\.io\/goauthentik\/server:2025\.10\.1 \(pinned by version tag\)/);
    expect(deployed.out).toMatch(/✔ database\.settings\.authentik\s+authentik reaches Neon on the direct endpoint, over TLS/);
    const runId = deployed.out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;
    // The order, from the run's own step records (each task writes its own when it ends).
    const dir = join(stateDir, "runs", runId, "steps");
    const steps = Object.fromEntries(
      readdirSync(dir).map((f) => {
        const s = JSON.parse(readFileSync(join(dir, f), "utf8")) as { step: string; startedAt: string; durationMs: number };
        const start = Date.parse(s.startedAt);
        return [s.step, { start, end: start + s.durationMs }];
      }),
    );
    const order = ["db-migrate", "deploy-backend", "deploy-authentik", "deploy-client", "smoke"];
    for (const [before, after] of order.slice(0, -1).map((s, i) => [s, order[i + 1]!] as const)) {
      expect(steps[before], `${before} recorded`).toBeDefined();
      expect(steps[before]!.end, `${before} ends before ${after} starts`).toBeLessThanOrEqual(steps[after]!.start);
    }
    // And flyctl saw the deploys in that order.
    const deploys = argvs().filter((a) => a.startsWith("deploy "));
    expect(deploys.map((a) => a.match(/-a (\S+)/)![1])).toEqual([STAGING.backend, STAGING.authentik, STAGING.client]);
  });

  it("syncs each app exactly its keys, values on stdin only (read back with the stand-in's own parser)", () => {
    const imports = calls().filter((c) => c.argv[0] === "secrets" && c.argv[1] === "import");
    const keysOf = (app: keyof typeof STAGING) => repoConfig.apps[app]!.secrets ?? [];
    for (const app of ["backend", "authentik", "client"] as const) {
      const call = imports.find((c) => c.argv.includes(STAGING[app]));
      expect(call?.argv, app).toEqual(["secrets", "import", "--stage", "-a", STAGING[app]]);
      const pairs = parseSecretsImport(readFileSync(call!.stdinFile!));
      expect([...pairs.keys()].sort(), app).toEqual([...keysOf(app)].sort());
      for (const [k, v] of pairs) expect(v, `${app} ${k}`).toBe(SECRETS[k]);
    }
    for (const value of PLANTED) {
      expect(deployed.out).not.toContain(value);
      for (const c of calls()) expect(c.argv.join(" ")).not.toContain(value);
    }
  });

  it("deploys authentik by its pinned image, no build, both process groups on it, and smoke-checks its readiness", () => {
    const deploy = calls().find((c) => c.argv[0] === "deploy" && c.argv.includes(STAGING.authentik))!;
    expect(deploy.argv.slice(0, 7)).toEqual(["deploy", "-c", "infra/fly/authentik.fly.toml", "-a", STAGING.authentik, "--image", IMAGE]);
    expect(deploy.argv).not.toContain("--remote-only");
    expect(deploy.argv).not.toContain("--image-label");
    const machines = readFakeFlyState(flyState).apps[STAGING.authentik]!.machines;
    expect(machines.map((m) => [m.config?.metadata?.fly_process_group, m.config?.image]).sort()).toEqual([
      ["server", IMAGE],
      ["worker", IMAGE],
    ]);
    expect(authentik.requests).toContain("/-/health/ready/");
    expect(deployed.out).toMatch(/authentik: release v2 is serving \(previous: v1\)/);
  });

  it("leaves production's apps untouched", () => {
    for (const a of Object.values(PRODUCTION)) expect(argvs().filter((x) => x.includes(a))).toEqual([]);
    expect(production()).toEqual(productionBefore);
  });

  it("a dry run of its deploy prints the very flyctl command the pipeline ran", async () => {
    const norm = (argv: readonly string[]) => argv.join(" ").replace(/\d{8}-\d{6}-[0-9a-f]{4}/g, "<run>");
    const dry = await repo.script("deploy", ["authentik", "--dry-run", "--json"], env);
    expect(dry.code, dry.out).toBe(0);
    const plan = planOf(dry.out);
    const ran = calls().find((c) => c.argv[0] === "deploy" && c.argv.includes(STAGING.authentik))!;
    expect(plan.filter((a) => a.argv?.[0] === "flyctl").map((a) => norm(a.argv!.slice(1)))).toEqual([norm(ran.argv)]);
  });

  it("rolls authentik back by image (apply runs the reads of its dry run, then what it printed): the older image on every machine", async () => {
    const norm = (argv: readonly string[]) => argv.join(" ");
    const start = calls().length;
    const dry = await repo.script("rollback", ["--app", "authentik", "--dry-run", "--json"], env);
    expect(dry.code, dry.out).toBe(0);
    const dryCalls = calls()
      .slice(start)
      .map((c) => norm(c.argv));
    const planned = planOf(dry.out)
      .filter((a) => a.argv?.[0] === "flyctl")
      .map((a) => norm(a.argv!.slice(1)));
    const mid = calls().length;
    const res = await repo.script("rollback", ["--app", "authentik", "--yes"], env);
    expect(res.code, res.out).toBe(0);
    expect(
      calls()
        .slice(mid)
        .map((c) => norm(c.argv)),
    ).toEqual([...dryCalls, ...planned]);
    const deploys = calls()
      .slice(mid)
      .filter((c) => c.argv[0] === "deploy");
    expect(deploys).toHaveLength(1);
    expect(deploys[0]!.argv).toEqual(expect.arrayContaining(["-a", STAGING.authentik, "--image", OLD_IMAGE, "--skip-release-command"]));
    const machines = readFakeFlyState(flyState).apps[STAGING.authentik]!.machines;
    expect(machines.every((m) => m.config?.image === OLD_IMAGE)).toBe(true);
    expect(res.out).toMatch(/authentik ready\s+pass/);
    expect(production()).toEqual(productionBefore);
  });
});
