/**
 * One fly environment for in-process step tests: `infra/fly/<env>.apps.env` (git-ignored) naming
 * two Fly apps, a state folder, a test database as MIGRATION_DATABASE_URL, the Neon stand-in (an
 * in-process HTTP server) for restore points, a site on loopback that answers the smoke checks
 * with the release each app of the scripted world runs, and planted secret values. Each call of
 * `context()` starts a new scripted flyctl from the same world.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/local/process-utils.ts";
import { type FakeNeon, startFakeNeon } from "../fixtures/neon/server.ts";
import { repoRoot } from "./context.ts";
import { createTestDatabase, type TestDatabase } from "./pg.ts";
import { refRelease, type ScriptedFailure, type ScriptedFly, type ScriptedWorld, scriptedFly } from "./scripted-fly.ts";
import type { ContextOptions } from "./step-run.ts";

/** Values no output, argv, event or file of ours may ever show. */
export const PLANTED = {
  token: "FlyV1 fm2_planted_token_3f9a",
  session: "planted-session-secret-7c21e0-0123456789",
  auth: "planted-backend-auth-token-55d1",
  databaseUrl: "postgres://app:planted-db-pw-9e4b@db.example.test:5432/app?sslmode=require",
};
export const plantedValues = () => [PLANTED.token, PLANTED.session, PLANTED.auth, "planted-db-pw-9e4b"];

export const OLD = "20261201-100000-aaaa";
export const CURRENT = "20261202-100000-bbbb";

export interface FlySteps {
  env: string;
  apps: { client: string; backend: string };
  stateDir: string;
  db: TestDatabase;
  neon: FakeNeon;
  /** What the site answers: `healthy` (the world's releases, schema version 2) or a broken variant. */
  site: { mode: "healthy" | "wrong-schema" };
  /** Two releases per app (v1 = OLD, v2 = CURRENT serving), public IPs only on the client. */
  world(): ScriptedWorld;
  /** Fresh context options with a new scripted flyctl on `world` (default: `world()`). */
  context(opts?: {
    world?: ScriptedWorld;
    failures?: ScriptedFailure[];
    env?: Record<string, string | undefined>;
    flags?: ContextOptions["flags"];
  }): ContextOptions & { fly: ScriptedFly };
  /** The scripted flyctl of the last `context()`. */
  lastFly(): ScriptedFly;
  close(): Promise<void>;
}

export async function flySteps(name: string): Promise<FlySteps> {
  const env = `${name}-${process.pid}`.slice(0, 30);
  const apps = { client: `${env}-client`, backend: `${env}-backend` };
  const stateDir = mkdtempSync(join(tmpdir(), `ops-${name}-`));
  const db = await createTestDatabase();
  const neon = await startFakeNeon();
  const site = { mode: "healthy" as FlySteps["site"]["mode"] };
  let last: ScriptedFly | undefined;
  const server: Server = createServer((req, res) => {
    const w = last?.world ?? world();
    if (req.url !== "/healthz") return res.end("<title>Deploy ops demo</title>");
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        ok: true,
        client: { release: w.apps[apps.client]?.releaseId ?? null },
        backend: {
          status: "SERVING",
          release: w.apps[apps.backend]?.releaseId ?? null,
          schemaVersion: site.mode === "wrong-schema" ? 1 : 2,
        },
      }),
    );
  });
  const sitePort = await freePort();
  await new Promise<void>((r) => server.listen(sitePort, "127.0.0.1", r));
  const closedPort = await freePort();
  const appsEnvFile = join(repoRoot, "infra", "fly", `${env}.apps.env`);
  writeFileSync(
    appsEnvFile,
    [
      "FLY_REGION=iad",
      `FLY_APP_CLIENT=${apps.client}`,
      `FLY_APP_BACKEND=${apps.backend}`,
      `PUBLIC_URL=http://127.0.0.1:${sitePort}`,
      `MUST_NOT_ANSWER=http://127.0.0.1:${closedPort}/`,
      `NEON_PROJECT_ID=${neon.projectId}`,
      `NEON_BRANCH_ID=${neon.defaultBranchId}`,
      `NEON_API_HOST=${neon.url}`,
    ].join("\n"),
  );
  function world(): ScriptedWorld {
    const app = (fly: string, ips: string[], isPublic: boolean) => ({
      releases: [refRelease(1, `registry.fly.io/${fly}:${OLD}`), refRelease(2, `registry.fly.io/${fly}:${CURRENT}`)],
      machines: [
        { id: "e2865001a", image: `registry.fly.io/${fly}:${CURRENT}` },
        { id: "e2865001b", image: `registry.fly.io/${fly}:${CURRENT}` },
      ],
      secrets: [],
      ips,
      releaseId: CURRENT,
      public: isPublic,
    });
    return {
      apps: { [apps.backend]: app(apps.backend, ["private_v6"], false), [apps.client]: app(apps.client, ["v6", "shared_v4"], true) },
    };
  }
  return {
    env,
    apps,
    stateDir,
    db,
    neon,
    site,
    world,
    context(opts = {}) {
      const fly = scriptedFly(opts.world ?? world(), { failures: opts.failures ?? [] });
      last = fly;
      return {
        fly,
        runner: fly.runner,
        flags: opts.flags ?? {},
        // Fast Neon polls; everything else as ops.config.ts says.
        config: (written) => ({ ...written, neon: { pollIntervalMs: 5, pollTimeoutMs: 5_000 } }),
        env: {
          OPS_TARGET: "fly",
          OPS_ENV: env,
          OPS_STATE_DIR: stateDir,
          FLY_API_TOKEN: PLANTED.token,
          NEON_API_KEY: neon.apiKey,
          MIGRATION_DATABASE_URL: db.url,
          OPS_SECRET_SESSION_SECRET: PLANTED.session,
          OPS_SECRET_BACKEND_AUTH_TOKEN: PLANTED.auth,
          OPS_SECRET_DATABASE_URL: PLANTED.databaseUrl,
          ...opts.env,
        },
      };
    },
    lastFly: () => last!,
    async close() {
      rmSync(appsEnvFile, { force: true });
      await new Promise<void>((r) => server.close(() => r()));
      await neon.close();
      await db.drop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Plain SQL reads of what a step recorded: history rows (oldest first) and whether a deploy lock row is held. */
export async function opsRows(db: TestDatabase, environment: string) {
  const c = await db.connect();
  try {
    const schema = await c.query("SELECT 1 FROM pg_namespace WHERE nspname = 'ops'");
    if (schema.rowCount === 0) return { history: [], locked: false };
    const history = await c.query(
      "SELECT kind, status, releases, migrations_applied, restore_point, error FROM ops.deploy_history WHERE environment = $1 ORDER BY started_at",
      [environment],
    );
    const lock = await c.query("SELECT run_id FROM ops.deploy_lock WHERE environment = $1", [environment]);
    return { history: history.rows as Record<string, unknown>[], locked: (lock.rowCount ?? 0) > 0 };
  } finally {
    await c.end();
  }
}

/**
 * Makes the lock holder of `environment` a process that is gone, as after a kill -9: in-process
 * runs are owned by whatever turbo runs the tests (alive) or by none, and `ops:lock break`
 * refuses to break the lock of a holder still running on this host.
 */
export async function holderGone(db: TestDatabase, environment: string): Promise<void> {
  const c = await db.connect();
  try {
    await c.query("UPDATE ops.deploy_lock SET holder_pid = 999999, holder_pid_start = 'gone' WHERE environment = $1", [environment]);
  } finally {
    await c.end();
  }
}
