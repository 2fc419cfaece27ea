import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import pgLib from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/local/process-utils.ts";
import { parseFlyImport } from "../../src/secrets/fly-import-format.ts";
import { createFakeFlyState, readFakeFlyState, updateFakeFlyState } from "../fixtures/flyctl/state.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";
import { startTestPg, type TestPgServer } from "../setup/pg-server.ts";
import { flyTestEnv, startFakeSite, writeFlyAppsEnv } from "./fly-world.ts";
import { databaseSnapshot, folderSnapshot } from "./snapshot.ts";
import { filesUnder, PIPELINE_STEPS, readText, runPipeline, tempDir, tempRepo } from "./harness.ts";

const PLANTED = "tok_live_PLACEHOLDER123456";
const TOKEN = "FlyV1 fm2_e2e_token";
const CLIENT = "ops-e2e-client";
const BACKEND = "ops-e2e-backend";
// C-07: shell-hostile values must arrive exactly; C-02: a certificate with real newlines.
const ADMIN_HASH = "$2b$10$abcdefghijklmnopqrstuv";
const GREETING = "hello world";
const CERT = "-----BEGIN X-----\nAAA\n-----END X-----\n";
const SESSION = "line one $HOME\nline two #not a comment";

const repo = tempRepo({
  opsConfig: (t) =>
    t
      .replace(
        'secrets: ["DATABASE_URL", "BACKEND_AUTH_TOKEN"],',
        'secrets: ["DATABASE_URL", "BACKEND_AUTH_TOKEN", "ADMIN_HASH", "GREETING", "CERT"],',
      )
      .replace("deadlineMs: 90_000,", "deadlineMs: 4_000,")
      .replace('  migrationsDir: "migrations",', '  migrationsDir: "migrations",\n  neon: { pollIntervalMs: 50 },'),
});
const stateDir = tempDir("ops-fly-e2e-");
const flyState = join(stateDir, "fly-state.json");
let pg: TestPgServer;
let neon: FakeNeon;
let site: Server;
let healthzBroken = false;
let env: Record<string, string | undefined>;

const calls = () => readFakeFlyState(flyState).calls;
const argvOf = (c: { argv: string[] }) => c.argv.join(" ");
const migrationCount = 2;

const pipeline = (steps?: [string, string[]][]) => runPipeline(repo, env, steps);

function writeSecrets(extra = "") {
  const file = join(repo.dir, ".env.production");
  writeFileSync(
    file,
    [
      "DATABASE_URL=postgresql://app:pw@db.internal:5432/app?sslmode=require",
      `export BACKEND_AUTH_TOKEN=${PLANTED}`,
      `ADMIN_HASH=${ADMIN_HASH}`,
      `GREETING=${GREETING}`,
      `CERT="-----BEGIN X-----\\nAAA\\n-----END X-----\\n"`,
      `SESSION_SECRET="line one $HOME`,
      `line two #not a comment"`,
      extra,
    ].join("\n"),
    { mode: 0o600 },
  );
}

beforeAll(async () => {
  pg = await startTestPg({ password: "pw" });
  const pgPort = pg.port;
  neon = await startFakeNeon({ apiKey: "neon_api_PLACEHOLDER_KEY_123" });
  neon.knobs.pollsToFinish = 1;
  createFakeFlyState(flyState, { validTokens: [TOKEN], apps: { [CLIENT]: {}, [BACKEND]: {} } });
  const started = await startFakeSite(
    flyState,
    { client: CLIENT, backend: BACKEND },
    { broken: () => healthzBroken, schemaVersion: migrationCount },
  );
  site = started.server;
  mkdirSync(join(repo.dir, "infra", "fly"), { recursive: true });
  writeFlyAppsEnv(repo.dir, { client: CLIENT, backend: BACKEND }, started.port, neon, await freePort());
  writeSecrets();
  env = flyTestEnv({ stateDir, flyState, token: TOKEN, neon, pgPort });
});

afterAll(async () => {
  site?.close();
  await neon?.close();
  await pg?.stop();
});

describe("production-deploy on the fly target, against the flyctl and Neon stand-ins", () => {
  let firstRun: string;

  it("ships backend then client with secrets on stdin only, a restore point, no public IPs, and records the release", async () => {
    const res = await pipeline();
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("▶ preflight  target=fly env=production");
    const runId = res.out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;
    firstRun = runId;
    const all = calls();
    const idx = (pred: (a: string) => boolean) => all.findIndex((c) => pred(argvOf(c)));
    const backendDeploy = all.find((c) => c.argv[0] === "deploy" && c.argv.includes(BACKEND))!;
    const clientDeploy = all.find((c) => c.argv[0] === "deploy" && c.argv.includes(CLIENT))!;
    expect(backendDeploy.argv).toEqual([
      "deploy",
      "-c",
      "infra/fly/backend.fly.toml",
      "-a",
      BACKEND,
      "--remote-only",
      "--image-label",
      runId,
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "--no-public-ips",
      "-e",
      `RELEASE_ID=${runId}`,
      "--yes",
    ]);
    expect(clientDeploy.argv).toEqual([
      "deploy",
      "-c",
      "infra/fly/client.fly.toml",
      "-a",
      CLIENT,
      "--remote-only",
      "--image-label",
      runId,
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "-e",
      `BACKEND_GRPC_ADDR=${BACKEND}.internal:50051`,
      "-e",
      `RELEASE_ID=${runId}`,
      "--yes",
    ]);
    expect(idx((a) => a.startsWith(`secrets import --stage -a ${BACKEND}`))).toBeLessThan(
      idx((a) => a.startsWith("deploy") && a.includes(BACKEND)),
    );
    expect(idx((a) => a.startsWith("deploy") && a.includes(BACKEND))).toBeLessThan(
      idx((a) => a.startsWith("deploy") && a.includes(CLIENT)),
    );
    expect(idx((a) => a.startsWith("deploy") && a.includes(BACKEND))).toBeLessThan(idx((a) => a === `ips list --json -a ${BACKEND}`));
    // The token only through FLY_API_TOKEN; the empty FLY_ACCESS_TOKEN was removed (it would hide it).
    for (const c of all) expect(c.env).toMatchObject({ FLY_API_TOKEN: "set" });
    for (const c of all) expect(c.env.FLY_ACCESS_TOKEN).toBeUndefined();
    expect(backendDeploy.env.FLY_EMIT_RELEASE_JSON).toBe("1");
    // C-07 / C-02: flyctl's own parser reads back exactly the values, each app only its keys.
    const imports = all.filter((c) => c.argv[0] === "secrets" && c.argv[1] === "import");
    const backendPairs = parseFlyImport(readFileSync(imports.find((c) => c.argv.includes(BACKEND))!.stdinFile!, "utf8")).pairs;
    expect(Object.fromEntries(backendPairs)).toEqual({
      DATABASE_URL: "postgresql://app:pw@db.internal:5432/app?sslmode=require",
      BACKEND_AUTH_TOKEN: PLANTED,
      ADMIN_HASH,
      GREETING,
      CERT,
    });
    const clientPairs = parseFlyImport(readFileSync(imports.find((c) => c.argv.includes(CLIENT))!.stdinFile!, "utf8")).pairs;
    expect(Object.fromEntries(clientPairs)).toEqual({ SESSION_SECRET: SESSION, BACKEND_AUTH_TOKEN: PLANTED });
    expect(readFakeFlyState(flyState).apps[BACKEND]!.secrets.ADMIN_HASH!.value).toBe(ADMIN_HASH);
    // C-08 (success path): the planted token is in no argv, no output, no file we wrote.
    for (const c of all) expect(argvOf(c)).not.toContain(PLANTED);
    expect(res.out).not.toContain(PLANTED);
    for (const f of filesUnder(stateDir).filter((f) => !f.includes("fly-state.json"))) expect(readText(f).includes(PLANTED), f).toBe(false);
    // The restore point was taken before migrating, and recorded.
    expect(neon.state.branchByName(`restore-${runId}`).parent_id).toBe(neon.defaultBranchId);
    const history = await repo.script("history", ["--json"], env);
    const row = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data[0];
    expect(row).toMatchObject({ runId, kind: "deploy", status: "succeeded", restorePoint: neon.state.branchByName(`restore-${runId}`).id });
    expect(row.releases).toEqual({ backend: { from: null, to: runId }, client: { from: null, to: runId } });
    // The timeline: fly deploy builds, releases and waits for health in one command; the internal backend's IP check follows.
    const phases = (lane: string) => row.timeline.filter((b: { lane: string }) => b.lane === lane).map((b: { name: string }) => b.name);
    expect(phases("deploy backend")).toEqual(["build + deploy + health", "check no public IP"]);
    expect(phases("deploy client")).toEqual(["build + deploy + health"]);
  });

  it("a second run with unchanged secrets imports nothing and still deploys both apps", async () => {
    const before = calls().length;
    const res = await pipeline();
    expect(res.code, res.out).toBe(0);
    const next = calls().slice(before);
    expect(next.filter((c) => c.argv[0] === "secrets" && c.argv[1] === "import")).toHaveLength(0);
    expect(next.filter((c) => c.argv[0] === "deploy")).toHaveLength(2);
    expect(res.out).toMatch(/BACKEND_AUTH_TOKEN\s+unchanged/);
  });

  it("a dry run of the pipeline and of each step calls no mutating flyctl command and leaves the database and state folder as they were", async () => {
    const readsOnly = (c: { argv: string[] }) =>
      ["releases", "status", "version"].includes(c.argv[0]!) ||
      ["secrets list", "ips list", "auth whoami", "apps list"].includes(c.argv.slice(0, 2).join(" "));
    const snap = async () => ({
      db: await databaseSnapshot(env.MIGRATION_DATABASE_URL!),
      files: folderSnapshot(stateDir, (p) => !p.startsWith("fly-state")),
    });
    // Something for each dry run to plan: a changed secret, and a pending migration.
    writeFileSync(
      join(repo.dir, ".env.production"),
      readFileSync(join(repo.dir, ".env.production"), "utf8").replace(`GREETING=${GREETING}`, "GREETING=hello again"),
    );
    const probe = join(repo.dir, "migrations", `${migrationCount + 1}_dry.sql`);
    writeFileSync(probe, "CREATE TABLE dry_run_probe (id bigint);\n");
    try {
      const before = await snap();
      const firstCall = calls().length;
      const res = await pipeline(PIPELINE_STEPS.map(([s, a]) => [s, [...a, "--dry-run"]]));
      expect(res.code, res.out).toBe(0);
      expect(res.out).toContain("stage GREETING on");
      expect(res.out).toContain(`apply ${migrationCount + 1}_dry.sql`);
      for (const [script, args] of [
        ["secrets", ["sync", "--dry-run"]],
        ["migrate", ["--dry-run"]],
        ["deploy", ["client", "--dry-run"]],
        ["rollback", ["--dry-run"]],
        ["lock", ["break", "--dry-run"]],
      ] as const) {
        const one = await repo.script(script, [...args], env);
        expect(one.code, one.out).toBe(0);
      }
      expect(
        calls()
          .slice(firstCall)
          .filter((c) => !readsOnly(c))
          .map(argvOf),
      ).toEqual([]);
      expect(await snap()).toEqual(before);
    } finally {
      rmSync(probe, { force: true });
      writeSecrets();
    }
  });

  it.each([
    ["secrets", ["sync"]],
    ["deploy", ["client"]],
    ["deploy", ["backend"]],
    ["rollback", ["--app", "client"]],
  ] as const)("%s %s: apply runs exactly the reads of its dry run, then the commands the dry run printed", async (script, args) => {
    if (script === "secrets")
      writeFileSync(
        join(repo.dir, ".env.production"),
        readFileSync(join(repo.dir, ".env.production"), "utf8").replace(`GREETING=${GREETING}`, "GREETING=hello plan"),
      );
    const norm = (argv: readonly string[]) => argv.join(" ").replace(/\d{8}-\d{6}-[0-9a-f]{4}/g, "<run>");
    const start = calls().length;
    const dry = await repo.script(script, [...args, "--dry-run", "--json"], env);
    expect(dry.code, dry.out).toBe(0);
    const dryCalls = calls()
      .slice(start)
      .map((c) => norm(c.argv));
    const plan = dry.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .find((e) => e.kind === "plan");
    const planned = (plan.actions as { argv?: string[] }[]).filter((a) => a.argv?.[0] === "flyctl").map((a) => norm(a.argv!.slice(1)));
    expect(planned.length).toBeGreaterThan(0);
    const mid = calls().length;
    const applied = await repo.script(script, [...args, "--json"], env);
    expect(applied.code, applied.out).toBe(0);
    expect(
      calls()
        .slice(mid)
        .map((c) => norm(c.argv)),
    ).toEqual([...dryCalls, ...planned]);
    if (script === "secrets") writeSecrets();
  });

  it("a manual rollback of one app redeploys the newest complete release with another image, then smoke-checks", async () => {
    const before = calls().length;
    const running = readFakeFlyState(flyState).apps[BACKEND]!.machines[0]!.config.image;
    const rolled = await repo.script("rollback", ["--app", "backend"], env);
    expect(rolled.code, rolled.out).toBe(0);
    const redeploy = calls()
      .slice(before)
      .find((c) => c.argv[0] === "deploy")!;
    const target = redeploy.argv[redeploy.argv.indexOf("--image") + 1]!;
    expect(target).not.toBe(running);
    expect(redeploy.argv).toContain("--skip-release-command");
    expect(redeploy.argv).toContain("--no-public-ips");
    expect(redeploy.argv).toContain(`RELEASE_ID=${target.split(":").at(-1)}`);
    expect(rolled.out).toMatch(/healthz proves the release\s+pass/);
  });

  it("C-22: a backend that ends up with a public IP fails its deploy, naming the addresses", async () => {
    updateFakeFlyState(flyState, (s) => {
      s.knobs.allocatePublicIpsFor = [BACKEND];
    });
    const res = await pipeline();
    updateFakeFlyState(flyState, (s) => {
      s.knobs.allocatePublicIpsFor = [];
      s.apps[BACKEND]!.ips = [];
    });
    expect(res.failedAt).toBe("deploy");
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`${BACKEND} must be internal but has public IPs: .*\\((v6|shared_v4)\\)`));
    expect(res.out).toContain(`fly ips release`);
  });

  it("a failing smoke check rolls both apps back to the images they ran before, client first", async () => {
    const before = calls().length;
    const imagesBefore = Object.fromEntries(
      [BACKEND, CLIENT].map((a) => [a, readFakeFlyState(flyState).apps[a]!.machines[0]!.config.image]),
    );
    healthzBroken = true;
    const res = await pipeline();
    healthzBroken = false;
    expect(res.failedAt).toBe("smoke");
    expect(res.code).toBe(1);
    const rollbacks = calls()
      .slice(before)
      .filter((c) => c.argv[0] === "deploy" && c.argv.includes("--image"));
    expect(rollbacks.map((c) => c.argv[c.argv.indexOf("-a") + 1])).toEqual([CLIENT, BACKEND]);
    for (const c of rollbacks) {
      expect(c.argv).toContain("--skip-release-command");
      expect(c.argv[c.argv.indexOf("--image") + 1]).toBe(imagesBefore[c.argv[c.argv.indexOf("-a") + 1]!]);
    }
    const history = await repo.script("history", [], env);
    expect(history.out).toMatch(/deploy\s+rolled-back/);
  });

  it("a health-check timeout on Fly fails the deploy, says what Fly kept, and releases the lock", async () => {
    updateFakeFlyState(flyState, (s) => {
      s.knobs.failHealthFor = [CLIENT];
    });
    const res = await pipeline();
    updateFakeFlyState(flyState, (s) => {
      s.knobs.failHealthFor = [];
    });
    expect(res.failedAt).toBe("deploy");
    expect(res.code).toBe(1);
    expect(res.out).toContain(`fly deploy of ${CLIENT} failed: flyctl error`);
    expect(res.out).toContain("timeout reached waiting for health checks");
    expect(res.out).toContain(`pnpm ops:rollback --app client`);
    const lock = await repo.script("lock", [], env);
    expect(lock.out).toContain("free");
  });

  it("a bad Fly token fails preflight before anything is locked or deployed", async () => {
    const before = calls().length;
    const res = await repo.script("preflight", ["--pipeline"], { ...env, FLY_API_TOKEN: "FlyV1 fm2_wrong" });
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/✖ fly\.auth\s+fly auth whoami failed/);
    expect(res.out).toContain("Create a new deploy token and set FLY_API_TOKEN.");
    expect(
      calls()
        .slice(before)
        .some((c) => c.argv[0] === "deploy"),
    ).toBe(false);
    expect(res.out).not.toContain("fm2_wrong");
  });

  it("C-09: secrets staged for apps the run did not deploy are applied with fly secrets deploy", async () => {
    writeSecrets("");
    const file = join(repo.dir, ".env.production");
    writeFileSync(file, readText(file).replace(`GREETING=${GREETING}`, "GREETING=hello again"), { mode: 0o600 });
    const before = calls().length;
    const res = await pipeline([
      ["preflight", ["--pipeline"]],
      ["secrets", ["sync", "--pipeline"]],
      ["finish", ["--pipeline"]],
    ]);
    expect(res.code, res.out).toBe(0);
    const next = calls().slice(before).map(argvOf);
    expect(next).toContain(`secrets import --stage -a ${BACKEND}`);
    expect(next).toContain(`secrets deploy -a ${BACKEND}`);
    expect(next).not.toContain(`secrets deploy -a ${CLIENT}`);
    expect(readFakeFlyState(flyState).apps[BACKEND]!.secrets.GREETING!.value).toBe("hello again");
  });

  it("C-08: flyctl echoing stdin and failing leaks no value into our output", async () => {
    updateFakeFlyState(flyState, (s) => {
      s.knobs.echoStdinAndFailFor = [BACKEND];
    });
    const file = join(repo.dir, ".env.production");
    writeFileSync(file, readText(file).replace("GREETING=hello again", "GREETING=hello once more"), { mode: 0o600 });
    const res = await repo.script("secrets", ["sync"], { ...env, OPS_VERBOSE: "1" });
    updateFakeFlyState(flyState, (s) => {
      s.knobs.echoStdinAndFailFor = [];
    });
    expect(res.code).toBe(1);
    expect(res.out).toContain(`staging 1 secrets on ${BACKEND} failed`);
    // verbose mode printed what flyctl echoed, with the values replaced
    expect(res.out).toContain("GREETING=[REDACTED]");
    expect(res.out).not.toContain(PLANTED);
    expect(res.out).not.toContain("hello once more");
  });

  it("rotate writes a new value (backup kept), stages it under the lock; a later sync applies it", async () => {
    const file = join(repo.dir, ".env.production");
    const before = calls().length;
    const rotate = await repo.script("secrets", ["rotate", "BACKEND_AUTH_TOKEN"], env);
    expect(rotate.code, rotate.out).toBe(0);
    const fresh = readText(file).match(/^export BACKEND_AUTH_TOKEN=(.*)$/m)![1]!;
    expect(fresh).not.toBe(PLANTED);
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readText(`${file}.bak`)).toContain(`BACKEND_AUTH_TOKEN=${PLANTED}`);
    expect(statSync(`${file}.bak`).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(rotate.out).not.toContain(fresh);
    const staged = calls().slice(before).map(argvOf);
    expect(staged).toEqual(expect.arrayContaining([`secrets import --stage -a ${BACKEND}`, `secrets import --stage -a ${CLIENT}`]));
    expect(staged.filter((a) => a.startsWith("secrets deploy"))).toEqual([]);
    const sync = await repo.script("secrets", ["sync"], env);
    expect(sync.code, sync.out).toBe(0);
    const applied = calls().slice(before).map(argvOf);
    expect(applied).toEqual(expect.arrayContaining([`secrets deploy -a ${BACKEND}`, `secrets deploy -a ${CLIENT}`]));
    expect(readFakeFlyState(flyState).apps[CLIENT]!.secrets.BACKEND_AUTH_TOKEN!.value).toBe(fresh);
    const history = await repo.script("history", [], env);
    expect(history.out).toMatch(/secrets\s+succeeded/);
  });

  it("a secrets sync alone takes the deploy lock: it is refused while a deploy holds it", async () => {
    const client = new pgLib.Client({ connectionString: env.MIGRATION_DATABASE_URL });
    await client.connect();
    await client.query(
      `INSERT INTO ops.deploy_lock (environment, token, run_id, holder_user, holder_host, git_sha, purpose, expires_at)
       VALUES ('production', 't', 'run-carol', 'carol', 'ci', 'feedbeef1234', 'deploy', now() + interval '10 minutes')`,
    );
    const before = calls().length;
    const res = await repo.script("secrets", ["sync"], env);
    await client.query("DELETE FROM ops.deploy_lock WHERE run_id = 'run-carol'");
    await client.end();
    expect(res.code).toBe(1);
    expect(res.out).toContain('environment "production" is locked by carol@ci');
    expect(
      calls()
        .slice(before)
        .some((c) => c.argv[0] === "secrets" && c.argv[1] !== "list"),
    ).toBe(false);
  });

  it("status and rollback read fly releases; the database restore needs confirmation and preserves the old state", async () => {
    const status = await repo.script("status", [], env);
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(new RegExp(`backend\\s+${BACKEND}\\s+v\\d+`));
    const plan = await repo.script("rollback", ["--app", "backend", "--dry-run"], env);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toMatch(/backend: .+ → v\d+ registry\.fly\.io\/ops-e2e-backend:/);
    const refused = await repo.script("rollback", ["--db"], env);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain("needs confirmation");
    const restored = await repo.script("rollback", ["--db", "--yes"], env);
    expect(restored.code, restored.out).toBe(0);
    expect(restored.out).toMatch(/its previous state is kept as branch main_pre_restore_\d{8}T\d{6}Z/);
    const restore = neon.state.restores.at(-1)!;
    expect(restore).toMatchObject({ sourceBranchId: neon.state.branchByName(`restore-${firstRun}`).id });
    expect(
      neon.state.requests.some(
        (r) =>
          r.path.endsWith("/restore") && (r.body as { preserve_under_name?: string }).preserve_under_name?.startsWith("main_pre_restore_"),
      ),
    ).toBe(true);
  });
});
