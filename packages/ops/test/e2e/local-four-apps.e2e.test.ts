// Apps are data, end to end on the local target: a fourth, tiny built app ("notes") added only in
// a temp copy's ops.config.ts (plus its package folder and turbo task) deploys with no change to
// @repo/ops — its own port, exactly its own secrets, its own smoke checks — and authentik, turned on
// by the environment's apps.env, is skipped with one line per step while its generated key is still
// made. The steps run one by one in the declared deploy order, as turbo's graph runs them; then the
// same app deploys on the fly target against the stand-ins (its own fly.toml and Dockerfile), with
// authentik off there.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/local/process-utils.ts";
import { createServer, type Server } from "node:http";
import { parseSecretsImport } from "../fixtures/flyctl/secrets-import-parser.ts";
import { createFakeFlyState, readFakeFlyState } from "../fixtures/flyctl/state.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";
import { startTestPg, type TestPgServer } from "../setup/pg-server.ts";
import { flyTestEnv, startFakeSite, writeFlyAppsEnv } from "./fly-world.ts";
import { freshEnvironment, getJson, PIPELINE_STEPS, runPipeline, tempDir, tempRepo } from "./harness.ts";

const NOT_RUN = "authentik: image-only app, not run on the local target";

/** The fourth app: its build copies server.mjs into build/; the server reports its release and which variables it got. */
const NOTES_SERVER = `import { createServer } from "node:http";
const release = process.env.RELEASE_ID;
createServer((req, res) => {
  if (req.url === "/healthz") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ notes: { release, status: "SERVING" } }));
  } else if (req.url === "/env") {
    res.end(JSON.stringify(Object.keys(process.env).sort()));
  } else res.end("notes are here");
}).listen(Number(process.env.PORT), process.env.HOST);
`;

/** Its image: built in a first stage, run as a non-root user; preflight's Dockerfile checks read it. */
const NOTES_DOCKERFILE = `FROM node:20-slim AS build
WORKDIR /app
COPY extra-apps/notes/build.mjs extra-apps/notes/server.mjs ./
RUN mkdir build && node build.mjs

FROM node:20-slim
WORKDIR /app
COPY --from=build /app/build ./build
ENV PORT=8080 HOST=0.0.0.0
USER node
CMD ["node", "build/server.mjs"]
`;
const NOTES_FLY_TOML = `app = "notes"
primary_region = "iad"
[build]
  dockerfile = "../../extra-apps/notes/Dockerfile"
[deploy]
  strategy = "rolling"
[env]
  PORT = "8080"
  HOST = "0.0.0.0"
[http_service]
  internal_port = 8080
  force_https = true
  [[http_service.checks]]
    method = "GET"
    path = "/healthz"
    interval = "15s"
    timeout = "5s"
`;

const repo = tempRepo({
  opsConfig: (t) =>
    t
      .replace('deployOrder: ["backend", "authentik", "client"],', 'deployOrder: ["backend", "authentik", "notes", "client"],')
      .replace(
        "    client: {\n",
        `    notes: {
      dir: "extra-apps/notes",
      artifacts: ["build"],
      command: ["node", "build/server.mjs"],
      portEnv: "PORT",
      hostEnv: "HOST",
      localPort: 7450,
      localEnv: { HOST: "127.0.0.1" },
      secrets: ["NOTES_TOKEN"],
      health: { kind: "http", path: "/healthz", timeoutMs: 30_000 },
      fly: { config: "infra/fly/notes.fly.toml", public: true, port: 8080 },
    },
    client: {
`,
      )
      .replace('generated: ["SESSION_SECRET",', 'generated: ["NOTES_TOKEN", "SESSION_SECRET",')
      .replace(
        '      { name: "home page", path: "/", expectText: "Deploy ops demo" },',
        `      { name: "home page", path: "/", expectText: "Deploy ops demo" },
      { name: "notes home", app: "notes", path: "/", expectText: "notes are here" },
      { name: "notes proves its release", app: "notes", path: "/healthz", expectReleases: true },`,
      ),
});
const order = ["backend", "authentik", "notes", "client"];
let env: Record<string, string | undefined>;
let out: { code: number | null; out: string; failedAt: string | undefined };
/** Each step's own output, by step name. */
const stepOut = (name: string) =>
  out.out.split(/(?=▶ )/).filter((chunk) => chunk.startsWith(`▶ ${name} `) || chunk.startsWith(`▶ ${name}\n`));

beforeAll(async () => {
  const dir = join(repo.dir, "extra-apps", "notes");
  mkdirSync(join(dir, "build"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "notes",
      private: true,
      scripts: {
        build: "node build.mjs",
        "production-build": "node build.mjs",
        deploy: "node ../../packages/ops/prebuild/run.mjs deploy notes --pipeline",
      },
    }),
  );
  // "Built" the way its build script would: the build output is what the local target copies.
  writeFileSync(join(dir, "build", "server.mjs"), NOTES_SERVER);
  writeFileSync(join(dir, "server.mjs"), NOTES_SERVER);
  writeFileSync(join(dir, "build.mjs"), 'import { cpSync } from "node:fs";\ncpSync("server.mjs", "build/server.mjs");\n');
  writeFileSync(join(dir, "Dockerfile"), NOTES_DOCKERFILE);
  writeFileSync(join(repo.dir, "infra", "fly", "notes.fly.toml"), NOTES_FLY_TOML);
  // A workspace package with its turbo tasks, as docs/tech.md says a new app needs: its build
  // snapshotted by production-artifacts, its deploy after the one before it in deployOrder.
  const workspace = readFileSync(join(repo.dir, "pnpm-workspace.yaml"), "utf8");
  writeFileSync(join(repo.dir, "pnpm-workspace.yaml"), workspace.replace("packages:\n", "packages:\n  - extra-apps/*\n"));
  const turbo = JSON.parse(readFileSync(join(repo.dir, "turbo.json"), "utf8")) as { tasks: Record<string, { dependsOn?: string[] }> };
  turbo.tasks["notes#deploy"] = {
    ...turbo.tasks["authentik#deploy"],
    dependsOn: ["@repo/scripts#production-artifacts", "authentik#deploy"],
  };
  turbo.tasks["production-artifacts"]!.dependsOn = [...(turbo.tasks["production-artifacts"]!.dependsOn ?? []), "notes#production-build"];
  turbo.tasks["client#deploy"]!.dependsOn = [...(turbo.tasks["client#deploy"]!.dependsOn ?? []), "notes#deploy"];
  writeFileSync(join(repo.dir, "turbo.json"), JSON.stringify(turbo, null, 2));

  env = { ...(await freshEnvironment("e2e-four")), OPS_REPO_ROOT: repo.dir, OPS_LOCAL_NOTES_PORT: String(await freePort()) };
  // authentik on in this environment, as on fly: the same apps.env key.
  writeFileSync(join(repo.dir, "infra", "fly", "e2e-four.apps.env"), "FLY_APP_AUTHENTIK=four-authentik\n");
  const deploys = order.map((app): [string, string[]] => ["deploy", [app, "--pipeline"]]);
  const steps = [...PIPELINE_STEPS.filter(([s]) => s !== "deploy").slice(0, 4), ...deploys, ...PIPELINE_STEPS.slice(-2)];
  out = await runPipeline(repo, env, steps);
});

afterAll(async () => {
  if (env) await repo.script("local", ["down", "--purge", "--yes"], env);
});

describe("a fourth app in ops.config.ts only, and authentik on, on the local target", () => {
  it("the pipeline succeeds and the fourth app serves its release on its own port, with exactly its secrets", async () => {
    expect(out.code, out.out).toBe(0);
    const runId = out.out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;
    const health = await getJson(`http://127.0.0.1:${env.OPS_LOCAL_NOTES_PORT}/healthz`);
    expect(health.body.notes.release).toBe(runId);
    const keys = (await getJson(`http://127.0.0.1:${env.OPS_LOCAL_NOTES_PORT}/env`)).body as string[];
    expect(keys).toContain("NOTES_TOKEN");
    for (const other of ["SESSION_SECRET", "BACKEND_AUTH_TOKEN", "DATABASE_URL", "AUTHENTIK_SECRET_KEY"]) expect(keys).not.toContain(other);
    expect(out.out).toContain(`notes: release ${runId} is serving (previous: none)`);
    // Its smoke checks ran on its own URL; authentik's were left out here.
    const report = JSON.parse(readFileSync(join(env.OPS_STATE_DIR!, "runs", runId, "smoke-report.json"), "utf8")) as {
      results: { name: string; url: string; ok: boolean }[];
    };
    expect(report.results.filter((r) => r.name.startsWith("notes")).map((r) => [r.name, new URL(r.url).port, r.ok])).toEqual([
      ["notes home", env.OPS_LOCAL_NOTES_PORT, true],
      ["notes proves its release", env.OPS_LOCAL_NOTES_PORT, true],
    ]);
    expect(report.results.map((r) => r.name)).not.toContain("authentik ready");
  });

  it("says once per step that authentik does not run here, and still generates its 64-character key", () => {
    for (const step of ["preflight", "secrets sync", "deploy authentik", "smoke"]) {
      const chunks = stepOut(step);
      expect(chunks, step).toHaveLength(1);
      expect(
        chunks[0]!.split("\n").filter((l) => l.includes(NOT_RUN)),
        step,
      ).toHaveLength(1);
    }
    expect(stepOut("deploy authentik")[0]).not.toMatch(/joined run|release/);
    const secrets = parseDotenv(readFileSync(join(env.OPS_STATE_DIR!, "local", "e2e-four", "secrets.env")));
    expect(secrets.AUTHENTIK_SECRET_KEY).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(secrets.NOTES_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("status lists the apps that run here in the declared order", async () => {
    const res = await repo.script("status", [], env);
    expect(res.code, res.out).toBe(0);
    const rows = res.out.split("\n").filter((l) => /^\s*(backend|notes|client|authentik)\s/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/)[0])).toEqual(["backend", "notes", "client"]);
  });
});

describe("the same fourth app on the fly target, against the stand-ins", () => {
  const TOKEN = "FlyV1 fm2_four_apps_token";
  const FLY = { client: "four-client", backend: "four-backend", notes: "four-notes" };
  const flyDir = tempDir("ops-four-fly-");
  const flyState = join(flyDir, "fly-state.json");
  let pg: TestPgServer;
  let neon: FakeNeon;
  let servers: Server[] = [];
  let flyEnv: Record<string, string | undefined>;
  let ran: Awaited<ReturnType<typeof runPipeline>>;

  beforeAll(async () => {
    pg = await startTestPg({ password: "pw" });
    neon = await startFakeNeon({ apiKey: "neon_api_PLACEHOLDER_FOUR_KEY" });
    neon.knobs.pollsToFinish = 1;
    createFakeFlyState(flyState, { validTokens: [TOKEN], apps: Object.fromEntries(Object.values(FLY).map((a) => [a, {}])) });
    const site = await startFakeSite(flyState, FLY);
    // What the deployed notes app answers on its own URL: the RELEASE_ID the stand-in's last deploy gave it.
    const notes = createServer((req, res) => {
      const release = readFakeFlyState(flyState).apps[FLY.notes]?.env.RELEASE_ID ?? null;
      res.end(req.url === "/healthz" ? JSON.stringify({ notes: { release, status: "SERVING" } }) : "notes are here");
    });
    const notesPort = await freePort();
    await new Promise<void>((r) => notes.listen(notesPort, "127.0.0.1", r));
    servers = [site.server, notes];
    writeFlyAppsEnv(repo.dir, FLY, site.port, neon, await freePort(), {
      environment: "e2e-four-fly",
      lines: [`FLY_APP_NOTES=${FLY.notes}`, `PUBLIC_URL_NOTES=http://127.0.0.1:${notesPort}`],
    });
    writeFileSync(
      join(repo.dir, ".env.e2e-four-fly"),
      "DATABASE_URL=postgresql://app:pw@db.internal:5432/app?sslmode=require\nBACKEND_AUTH_TOKEN=four-token\nSESSION_SECRET=four-session-0123456789abcdef0123456789\nNOTES_TOKEN=four-notes-token\n",
      { mode: 0o600 },
    );
    flyEnv = flyTestEnv({
      stateDir: flyDir,
      flyState,
      token: TOKEN,
      neon,
      pgPort: pg.port,
      extra: { OPS_REPO_ROOT: repo.dir, OPS_ENV: "e2e-four-fly", FLY_ACCESS_TOKEN: undefined },
    });
    const deploys = order.map((app): [string, string[]] => ["deploy", [app, "--pipeline"]]);
    ran = await runPipeline(repo, flyEnv, [
      ...PIPELINE_STEPS.filter(([s]) => s !== "deploy").slice(0, 4),
      ...deploys,
      ...PIPELINE_STEPS.slice(-2),
    ]);
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await neon?.close();
    await pg?.stop();
  });

  it("deploys backend, notes, client in that order with exactly their keys; authentik, off there, prints one line", () => {
    expect(ran.code, ran.out).toBe(0);
    const calls = readFakeFlyState(flyState).calls;
    expect(calls.filter((c) => c.argv[0] === "deploy").map((c) => c.argv[c.argv.indexOf("-a") + 1])).toEqual([
      FLY.backend,
      FLY.notes,
      FLY.client,
    ]);
    const notesImport = calls.find((c) => c.argv[0] === "secrets" && c.argv[1] === "import" && c.argv.includes(FLY.notes))!;
    expect([...parseSecretsImport(readFileSync(notesImport.stdinFile!)).entries()]).toEqual([["NOTES_TOKEN", "four-notes-token"]]);
    expect(ran.out.split("\n").filter((l) => /authentik/.test(l))).toEqual([
      "  authentik: off in e2e-four-fly (FLY_APP_AUTHENTIK is not set in infra/fly/e2e-four-fly.apps.env); nothing of it is synced, deployed or checked",
    ]);
    expect(ran.out).toMatch(/notes proves its release\s+pass/);
  });
});
