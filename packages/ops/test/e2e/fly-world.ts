import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { freePort } from "../../src/local/process-utils.ts";
import { readFakeFlyState } from "../fixtures/flyctl/state.ts";
import type { FakeNeon } from "../fixtures/neon/server.ts";
import { repoRoot } from "./harness.ts";

/** The Fly app names of one e2e file's world; each file uses its own so state never mixes. */
export interface FlyApps {
  client: string;
  backend: string;
  /** The optional authentik app: set to turn it on in the environment (`FLY_APP_AUTHENTIK`). */
  authentik?: string;
}

/**
 * Starts what the deployed client would answer on its public URL: `/healthz` reports the
 * RELEASE_ID the flyctl stand-in's last deploy gave each app (503 while `broken()` is true), any
 * other path the home page. Resolves once it listens on a free loopback port.
 */
export async function startFakeSite(
  flyState: string,
  apps: FlyApps,
  opts: { broken?: () => boolean; schemaVersion?: number } = {},
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url !== "/healthz") {
      res.end("<title>Deploy ops demo</title>");
      return;
    }
    const deployed = readFakeFlyState(flyState).apps;
    const broken = opts.broken?.() ?? false;
    res.statusCode = broken ? 503 : 200;
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        ok: !broken,
        client: { release: deployed[apps.client]?.env.RELEASE_ID ?? "dev" },
        backend: {
          status: "SERVING",
          release: deployed[apps.backend]?.env.RELEASE_ID ?? null,
          schemaVersion: opts.schemaVersion ?? 2,
          databaseReachable: true,
        },
        checkedAt: new Date().toISOString(),
      }),
    );
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { server, port };
}

/**
 * What authentik would answer on its own URL: `/-/health/ready/` with 204 (its newer versions; the
 * docs say 200), anything else 404. `requests` lists the paths asked for.
 */
export async function startFakeAuthentik(): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    res.statusCode = req.url === "/-/health/ready/" ? 204 : 404;
    res.end();
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { server, port, requests };
}

/**
 * Writes the apps.env of a temp repo for the stand-ins (`infra/fly/apps.env`, or
 * `infra/fly/<environment>.apps.env`): app names, the fake site as PUBLIC_URL, the fake Neon's ids
 * and host, and (when given) a closed port as MUST_NOT_ANSWER and `lines` (e.g. PUBLIC_URL_AUTHENTIK).
 */
export function writeFlyAppsEnv(
  repoDir: string,
  apps: FlyApps,
  sitePort: number,
  neon: FakeNeon,
  mustNotAnswerPort?: number,
  more: { environment?: string; lines?: string[] } = {},
): void {
  const lines = [
    "FLY_REGION=iad",
    `FLY_APP_CLIENT=${apps.client}`,
    `FLY_APP_BACKEND=${apps.backend}`,
    ...(apps.authentik ? [`FLY_APP_AUTHENTIK=${apps.authentik}`] : []),
    `PUBLIC_URL=http://127.0.0.1:${sitePort}`,
    `NEON_PROJECT_ID=${neon.projectId}`,
    `NEON_BRANCH_ID=${neon.defaultBranchId}`,
    `NEON_API_HOST=${neon.url}`,
  ];
  if (mustNotAnswerPort !== undefined) lines.push(`MUST_NOT_ANSWER=http://127.0.0.1:${mustNotAnswerPort}/`);
  lines.push(...(more.lines ?? []));
  const env = more.environment ?? "production";
  writeFileSync(join(repoDir, "infra", "fly", env === "production" ? "apps.env" : `${env}.apps.env`), lines.join("\n"));
}

/**
 * The environment a fly-target pipeline runs with against the stand-ins: the fake flyctl first
 * on PATH, its state file, the token it accepts, the fake Neon's key and the test Postgres as the
 * migration database. `extra` overrides or adds variables (undefined removes one).
 */
export function flyTestEnv(opts: {
  stateDir: string;
  flyState: string;
  token: string;
  neon: FakeNeon;
  pgPort: number;
  extra?: Record<string, string | undefined>;
}): Record<string, string | undefined> {
  return {
    OPS_TARGET: "fly",
    OPS_ENV: undefined,
    OPS_STATE_DIR: opts.stateDir,
    OPS_SECRETS_FILE: undefined,
    FLY_API_TOKEN: opts.token,
    FLY_ACCESS_TOKEN: "",
    FAKE_FLY_STATE: opts.flyState,
    NEON_API_KEY: opts.neon.apiKey,
    MIGRATION_DATABASE_URL: `postgresql://postgres:pw@127.0.0.1:${opts.pgPort}/postgres`,
    DATABASE_URL: undefined,
    PATH: `${join(repoRoot, "packages/ops/test/fixtures/bin")}:${process.env.PATH}`,
    CI: "1",
    ...opts.extra,
  };
}
