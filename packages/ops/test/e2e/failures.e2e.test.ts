import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/local/process-utils.ts";
import {
  environmentProcesses,
  filesUnder,
  freshEnvironment,
  getJson,
  pnpm,
  inherited,
  prebuiltStep,
  readText,
  runPipeline,
  tempRepo,
} from "./harness.ts";

const PLANTED = "tok_live_PLACEHOLDER123456";
const PLANTED_ENV = "fly_env_PLANTED_9d8c7b6a5f";
const noStack = (out: string) => expect(out).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);

beforeAll(async () => {
  const build = await pnpm(["turbo", "run", "build"], {});
  expect(build.code, build.out).toBe(0);
});

describe("bad input gives one clear error and a non-zero exit", () => {
  it("a CRLF migration fails preflight before connecting, naming file:line and the fix", async () => {
    const repo = tempRepo({ migrations: { "1_init.sql": "CREATE TABLE t (id int);\r\n", "2_more.sql": "SELECT 1;\n" } });
    const env = await freshEnvironment("e2e-crlf");
    const res = await repo.script("preflight", [], env);
    expect(res.code, res.out).toBe(1);
    expect(res.out).toContain("1_init.sql:1");
    expect(res.out).toContain("*.sql text eol=lf");
    expect(res.out).toMatch(/✖ preflight: 1 check failed: migrations\./);
    noStack(res.out);
    const migrate = await repo.script("migrate", [], env);
    expect(migrate.code, migrate.out).toBe(1);
    expect(migrate.out).toContain("nothing was applied");
    expect(migrate.out).not.toContain("started the local Postgres");
  });

  it("a gap in migration ids names the missing id", async () => {
    const repo = tempRepo({ migrations: { "1_a.sql": "SELECT 1;\n", "2_b.sql": "SELECT 2;\n", "4_c.sql": "SELECT 4;\n" } });
    const res = await repo.script("preflight", [], await freshEnvironment("e2e-gap"));
    expect(res.code, res.out).toBe(1);
    expect(res.out).toContain("missing id 3");
    noStack(res.out);
  });

  it("a typo in ops.config.ts names the path and suggests the right name", async () => {
    const repo = tempRepo({
      opsConfig: (t) => t.replace('deployOrder: ["backend", "authentik", "client"]', 'deployOrder: ["backend", "authentik", "clinet"]'),
    });
    const res = await repo.script("preflight", [], await freshEnvironment("e2e-config"));
    expect(res.code, res.out).toBe(1);
    expect(res.out).toContain('deployOrder[2]: "clinet" is not an app; did you mean client?');
    noStack(res.out);
  });

  it("a secrets file missing a declared key names the key and the closest one", async () => {
    const repo = tempRepo();
    const file = join(repo.dir, "secrets.env");
    writeFileSync(file, `SESSION_SECRET=${"s".repeat(40)}\nBACKEND_AUTH_TOKN=${PLANTED}\n`, { mode: 0o600 });
    const res = await repo.script("preflight", [], { ...(await freshEnvironment("e2e-secrets")), OPS_SECRETS_FILE: file });
    expect(res.code, res.out).toBe(1);
    expect(res.out).toContain('apps.backend.secrets[1]: "BACKEND_AUTH_TOKEN" is not in');
    expect(res.out).toContain("did you mean BACKEND_AUTH_TOKN?");
    expect(res.out).not.toContain(PLANTED);
  });

  it("OPS_TARGET with an unknown value is refused before anything runs", async () => {
    const res = await tempRepo().script("status", [], { ...(await freshEnvironment("e2e-target")), OPS_TARGET: "heroku" });
    expect(res.code).toBe(1);
    expect(res.out).toContain('OPS_TARGET="heroku" is not a target; use "local" or "fly"');
  });
});

describe("a pipeline run with planted secrets, a held lock, a bad release and a failing smoke check", () => {
  const repo = tempRepo();
  let env: Record<string, string | undefined>;
  let url: string;
  const pipeline = () => runPipeline(repo, env);

  beforeAll(async () => {
    const secretsFile = join(repo.dir, "secrets.env");
    writeFileSync(secretsFile, `SESSION_SECRET=${"x".repeat(40)}\nBACKEND_AUTH_TOKEN=${PLANTED}\n`, { mode: 0o600 });
    env = { ...(await freshEnvironment("e2e-faults")), OPS_SECRETS_FILE: secretsFile, OPS_VERBOSE: "1", FLY_API_TOKEN: PLANTED_ENV };
    url = `http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}`;
  });
  afterAll(async () => {
    await repo.script("local", ["down", "--purge", "--yes"], env);
  });

  /**
   * No process of the environment keeps the deployer's token in its environment; the Postgres
   * password and the app secret reach only the apps (and their supervisors) that are given them;
   * initdb's password file is gone, and no shared /tmp password file exists.
   */
  function expectNoSecretResidue() {
    const pgPassword = readText(join(env.OPS_STATE_DIR!, "local", "e2e-faults", "secrets.env")).match(/^OPS_LOCAL_PG_PASSWORD=(.*)$/m)![1]!;
    const procs = environmentProcesses(env);
    expect(procs.map((p) => p.cwd)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/postgres$/), expect.stringMatching(/\/router$/)]),
    );
    for (const p of procs) {
      expect(p.environ.includes(PLANTED_ENV), `${p.pid} ${p.command}`).toBe(false);
      if (p.cwd.includes("/apps/")) continue;
      expect(p.environ.includes(pgPassword), `${p.pid} ${p.command}`).toBe(false);
      expect(p.environ.includes(PLANTED), `${p.pid} ${p.command}`).toBe(false);
    }
    const dataParent = join(env.OPS_STATE_DIR!, "local", "e2e-faults", "postgres");
    expect(readdirSync(dataParent).filter((f) => f.startsWith(".pg-pwfile-"))).toEqual([]);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith("pg-password-"))).toEqual([]);
  }

  let good: string;
  it("deploys with the given secrets; the planted token is nowhere in output or state files", async () => {
    const res = await pipeline();
    expect(res.code, res.out).toBe(0);
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    good = health.body.client.release;
    expect(res.out).not.toContain(PLANTED);
    for (const f of filesUnder(env.OPS_STATE_DIR!)) expect(readText(f).includes(PLANTED), f).toBe(false);
    expectNoSecretResidue();
  });

  it("a second deploy is refused at once while another holder has the lock, naming the holder", async () => {
    const secrets = readText(join(env.OPS_STATE_DIR!, "local", "e2e-faults", "secrets.env"));
    const password = secrets.match(/^OPS_LOCAL_PG_PASSWORD=(.*)$/m)![1]!;
    const client = new pg.Client({ connectionString: `postgresql://postgres:${password}@127.0.0.1:${env.OPS_LOCAL_PG_PORT}/app` });
    await client.connect();
    await client.query(
      `INSERT INTO ops.deploy_lock (environment, token, run_id, holder_user, holder_host, git_sha, purpose, expires_at)
       VALUES ('e2e-faults', 't', 'run-alice', 'alice', 'laptop', 'abcdef1234567', 'deploy', now() + interval '10 minutes')`,
    );
    await client.end();
    const res = await repo.script("preflight", ["--pipeline"], env);
    expect(res.code, res.out).toBe(1);
    expect(res.out).toContain('environment "e2e-faults" is locked by alice@laptop (run run-alice, deploy of abcdef1');
    expect(res.out).toContain("pnpm ops:lock break --yes");
    noStack(res.out);
    const refused = await repo.script("lock", ["break"], env);
    expect(refused.code).toBe(2);
    const broke = await repo.script("lock", ["break", "--yes"], env);
    expect(broke.code, broke.out).toBe(0);
    expect(broke.out).toContain("broke the deploy lock held by alice@laptop");
  });

  it("a release that never becomes healthy fails its deploy and the previous release keeps serving", async () => {
    repo.setConfig((t) =>
      t
        .replace('DB_PROBE_INTERVAL: "1s"', 'DB_PROBE_INTERVAL: "banana"')
        .replace(
          'timeoutMs: 30_000 },\n      fly: { config: "infra/fly/backend',
          'timeoutMs: 4_000 },\n      fly: { config: "infra/fly/backend',
        ),
    );
    const res = await pipeline();
    expect(res.failedAt).toBe("deploy");
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/backend release \S+ did not become healthy within 4000 ms/);
    expect(res.out).toContain(`The previous release (${good}) keeps serving`);
    expect(res.out).toContain("DB_PROBE_INTERVAL");
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.backend.release).toBe(good);
    const lock = await repo.script("lock", ["status"], env);
    expect(lock.out).toContain("free");
  });

  it("Ctrl-C during a deploy marks the run failed, releases the lock and stops the half-started release", async () => {
    repo.setConfig((t) => t.replace('DB_PROBE_INTERVAL: "1s"', 'DB_PROBE_INTERVAL: "banana"'));
    const pre = await repo.script("preflight", ["--pipeline"], env);
    expect(pre.code, pre.out).toBe(0);
    for (const step of [
      ["secrets", ["sync", "--pipeline"]],
      ["migrate", ["--pipeline"]],
      ["artifacts", ["--pipeline"]],
    ] as const) {
      expect((await repo.script(step[0], [...step[1]], env)).code).toBe(0);
    }
    const child = spawn(process.execPath, prebuiltStep("deploy", ["backend", "--pipeline"]), {
      cwd: repo.dir,
      env: { ...inherited(), ...env, OPS_REPO_ROOT: repo.dir } as Record<string, string>,
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    while (!out.includes("waiting up to")) await new Promise((r) => setTimeout(r, 100));
    const supervisorPid = Number(out.match(/supervisor pid (\d+)/)![1]);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code, out).toBe(130);
    expect(out).toContain("deploy backend: interrupted by SIGINT; the run was marked failed and its lock released");
    expect(isAlive(supervisorPid)).toBe(false);
    const lock = await repo.script("lock", [], env);
    expect(lock.out).toContain("free");
    const history = await repo.script("history", ["--json"], env);
    const last = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data[0];
    expect(last).toMatchObject({ status: "failed", error: "interrupted by SIGINT" });
    const health = await getJson(`${url}/healthz`);
    expect(health.body.backend.release).toBe(good);
  });

  it("a failing smoke check rolls the run's apps back to their previous releases and exits non-zero", async () => {
    repo.setConfig((t) => t.replace('expectText: "Deploy ops demo"', 'expectText: "text the page never shows"'));
    const res = await pipeline();
    expect(res.failedAt).toBe("smoke");
    expect(res.code).toBe(1);
    expect(res.out).toContain('body does not contain "text the page never shows"');
    expect(res.out).toMatch(/rolled back: client now serves \S+, backend now serves \S+/);
    const health = await getJson(`${url}/healthz`);
    expect(health.body.client.release).toBe(good);
    expect(health.body.backend.release).toBe(good);
    const history = await repo.script("history", [], env);
    expect(history.out).toMatch(/deploy\s+rolled-back/);
    expect(history.out).not.toContain(PLANTED);
    expect(res.out).not.toContain(PLANTED);
    for (const f of filesUnder(env.OPS_STATE_DIR!)) expect(readText(f).includes(PLANTED), f).toBe(false);
    expectNoSecretResidue();
  });
});
