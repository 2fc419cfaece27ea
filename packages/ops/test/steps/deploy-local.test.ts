// `deploy`, `rollback` and `local up|down` on the local target, in-process, with one tiny app (a
// node HTTP server of a few lines) in a temp repository instead of the real builds: each dry run
// writes nothing and starts nothing, and apply announces exactly the printed actions (the argv of
// each process it starts included). Then the failures: a missing build, nothing to roll back to.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/local/process-utils.ts";
import { deployCommand } from "../../src/steps/deploy.ts";
import { localCommand } from "../../src/steps/local.ts";
import { rollbackCommand } from "../../src/steps/rollback.ts";
import { smokeCommand } from "../../src/steps/smoke.ts";
import { repoRoot } from "../setup/context.ts";
import { opsRows } from "../setup/fly-steps.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";
import { scriptedFly } from "../setup/scripted-fly.ts";
import { type ContextOptions, dryThenApply, runStep, snapshot } from "../setup/step-run.ts";

const ENV = "deploy-local";
let root: string;
let stateDir: string;
let db: TestDatabase;
let port: number;

const SERVER = `import { createServer } from "node:http";
createServer((req, res) => {
  res.setHeader("content-type", req.url === "/healthz" ? "application/json" : "text/html");
  res.end(req.url === "/healthz" ? JSON.stringify({ tiny: { release: process.env.RELEASE_ID, schemaVersion: 0 } }) : "<title>tiny</title>");
}).listen(Number(process.env.PORT), process.env.HOST);
`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "ops-deploy-local-"));
  symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
  copyFileSync(join(repoRoot, "ops.config.ts"), join(root, "ops.config.ts"));
  writeFileSync(join(root, "pnpm-workspace.yaml"), "packages: []\n");
  mkdirSync(join(root, "migrations"));
  mkdirSync(join(root, "apps", "tiny", "build"), { recursive: true });
  writeFileSync(join(root, "apps", "tiny", "build", "server.mjs"), SERVER);
  stateDir = join(root, ".ops");
  db = await createTestDatabase();
  port = await freePort();
});
afterAll(async () => {
  await runStep(localCommand(), { positionals: ["down"] }, context());
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

/** One public app, `tiny`, whose build is the server above. */
const tinyConfig = (written: Record<string, unknown>) => ({
  ...written,
  deployOrder: ["tiny"],
  publicApp: "tiny",
  apps: {
    tiny: {
      dir: "apps/tiny",
      artifacts: ["build"],
      command: ["node", "build/server.mjs"],
      portEnv: "PORT",
      hostEnv: "HOST",
      localPort: 3000,
      localEnv: { HOST: "127.0.0.1" },
      secrets: ["SESSION_SECRET"],
      health: { kind: "http", path: "/healthz", timeoutMs: 10_000 },
    },
  },
  secrets: { generated: ["SESSION_SECRET"], rotatable: [] },
  smoke: { deadlineMs: 5_000, retryDelayMs: 50, checks: [{ name: "healthz proves the release", path: "/healthz", expectReleases: true }] },
  turbo: {},
});

function context(): ContextOptions {
  return {
    runner: scriptedFly({ apps: {} }).runner,
    config: tinyConfig,
    env: { OPS_REPO_ROOT: root, OPS_ENV: ENV, OPS_STATE_DIR: stateDir, DATABASE_URL: db.url, OPS_LOCAL_TINY_PORT: String(port) },
  };
}
const seen = () => ({ stateDir, dbUrl: db.url });
const healthz = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { tiny: { release: string } };

describe("down where nothing was ever deployed", () => {
  it("stops nothing and writes no state file", async () => {
    const other = { ...context(), env: { ...context().env, OPS_ENV: "never-deployed" } };
    const r = await runStep(localCommand(), { positionals: ["down"] }, other);
    expect(r.error).toBeUndefined();
    expect(existsSync(join(stateDir, "local", "never-deployed", "apps"))).toBe(false);
  });
});

// Each test starts real processes (a supervisor, the app, the router): a loaded machine needs more than 5 s.
describe("deploy, rollback, up and down on local: dry run = apply", { timeout: 30_000 }, () => {
  let first: string;
  let second: string;

  it("deploy: copy the build, start it, wait for health, route the port, record the secrets it got", async () => {
    const { printed, live } = await dryThenApply(deployCommand, { positionals: ["tiny"] }, context, seen());
    expect(printed.map((a) => a.kind)).toEqual(["db", "file", "process", "wait", "process", "file", "db"]);
    expect(printed[2]!.argv).toEqual([process.execPath, "build/server.mjs"]);
    expect(printed[2]!.envKeys).toEqual(expect.arrayContaining(["HOST", "PORT", "RELEASE_ID", "SESSION_SECRET"]));
    first = (live.events.find((e) => e.kind === "info" && e.message.startsWith("tiny: release ")) as { message: string }).message.split(
      " ",
    )[2]!;
    expect(first).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect((await healthz()).tiny.release).toBe(first);
  });

  it("a second deploy replaces it; rollback goes back to the first, as printed", async () => {
    await runStep(deployCommand(), { positionals: ["tiny"] }, context());
    second = (await healthz()).tiny.release;
    expect(second).not.toBe(first);
    const { printed } = await dryThenApply(rollbackCommand, {}, context, seen());
    expect(printed.map((a) => a.kind)).toEqual(["db", "process", "wait", "process", "http", "check", "db"]);
    expect((await healthz()).tiny.release).toBe(first);
    expect((await opsRows(db, ENV)).history.at(-1)).toMatchObject({
      kind: "rollback",
      status: "succeeded",
      releases: { tiny: { from: second, to: first } },
    });
  });

  it("smoke: checks what the router serves, as printed; the dry run writes no report", async () => {
    const { printed, live } = await dryThenApply(smokeCommand, {}, context, seen());
    expect(printed).toHaveLength(1);
    expect(printed[0]!.description).toBe(
      `smoke-check http://127.0.0.1:${port} until every check passes or 5000 ms pass: GET /healthz → 200 proving tiny=${first}`,
    );
    expect(live.commands).toEqual([]);
    const result = live.events.find((e) => e.kind === "result") as { data: { ok: boolean } };
    expect(result.data.ok).toBe(true);
  });

  it("down stops everything; up starts the current release again", async () => {
    const down = await dryThenApply(localCommand, { positionals: ["down"] }, context, seen());
    expect(down.printed.map((a) => a.description)).toEqual([
      "stop every release of this environment",
      "stop the router",
      "stop the local Postgres",
      `stop any other process still running in ${join(stateDir, "local", ENV)}`,
    ]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    const up = await dryThenApply(localCommand, { positionals: ["up"] }, context, seen());
    expect(up.printed.map((a) => a.kind)).toEqual(["process", "wait", "process"]);
    // The current release comes back: no "previous release" to stop.
    expect(up.printed[2]!.description).toBe(`route 127.0.0.1:${port} to it`);
    expect((await healthz()).tiny.release).toBe(first);
  });

  it("up whose current release cannot start again says nothing serves it, not that a previous release does", async () => {
    await runStep(localCommand(), { positionals: ["down"] }, context());
    const server = join(stateDir, "local", ENV, "apps", "tiny", "releases", first, "build", "server.mjs");
    const good = readFileSync(server, "utf8");
    writeFileSync(server, "process.exit(3);\n");
    try {
      const up = await runStep(localCommand(), { positionals: ["up"] }, context());
      expect(up.error?.name).toBe("DeployError");
      expect(up.error?.message).toMatch(new RegExp(`^tiny release ${first} did not become healthy within 10000 ms: `));
      expect(up.error?.fix).toMatch(
        /^tiny serves nothing now: its current release could not be started again\. See the log, then run `pnpm ops:local up` again or go back with `pnpm ops:rollback --app tiny`\./,
      );
    } finally {
      writeFileSync(server, good);
    }
    await runStep(localCommand(), { positionals: ["up"] }, context());
    expect((await healthz()).tiny.release).toBe(first);
  });

  it("up with the public port taken by another program starts nothing and names the port", async () => {
    await runStep(localCommand(), { positionals: ["down"] }, context());
    const other = createServer((_req, res) => res.end("other")).listen(port, "127.0.0.1");
    await once(other, "listening");
    try {
      const before = await snapshot(stateDir, db.url);
      const up = await runStep(localCommand(), { positionals: ["up"] }, context());
      expect(up.error?.name).toBe("PreflightError");
      expect(up.error?.message).toMatch(
        new RegExp(`^127\\.0\\.0\\.1:${port} \\(OPS_LOCAL_TINY_PORT\\) is used by another program.*; nothing was started$`),
      );
      expect(up.error?.fix).toBe("Stop that program or set OPS_LOCAL_TINY_PORT to a free port.");
      expect(up.events.some((e) => e.kind === "action")).toBe(false);
      expect(await snapshot(stateDir, db.url)).toEqual(before);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
    await runStep(localCommand(), { positionals: ["up"] }, context());
    expect((await healthz()).tiny.release).toBe(first);
  });

  it("up after a run was killed between switching traffic and recording it: records what the router serves, restarts nothing", async () => {
    // What a rollback killed right after its switch leaves: the router sends traffic to ${first}, the state still says ${second}.
    const stateFile = join(stateDir, "local", ENV, "apps", "tiny", "state.json");
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as { current: string };
    expect(state.current).toBe(first);
    writeFileSync(stateFile, JSON.stringify({ ...state, current: second }));
    // The rollback's switch noted why it switched to ${first} before it was killed.
    const launchFile = join(stateDir, "local", ENV, "apps", "tiny", "releases", first, "launch.json");
    expect(JSON.parse(readFileSync(launchFile, "utf8"))).toMatchObject({ switchingVia: "restart" });
    writeFileSync(launchFile, JSON.stringify({ ...JSON.parse(readFileSync(launchFile, "utf8")), switchingVia: "rollback" }));
    const up = await dryThenApply(localCommand, { positionals: ["up"] }, context, seen());
    expect(up.printed.map((a) => a.description)).toEqual([
      `repair: record that tiny release ${first} serves: the router sends its traffic there, but the state says ${second} (a run was killed after switching)`,
    ]);
    expect((await healthz()).tiny.release).toBe(first);
    const repaired = JSON.parse(readFileSync(stateFile, "utf8")) as {
      current: string;
      served: { release: string; via: string }[];
      releases: { id: string; rolledBack?: boolean }[];
    };
    expect(repaired.current).toBe(first);
    // Recorded as the rollback it was: the release it left is marked rolled back, so the next default rollback skips it.
    expect(repaired.served.at(-1)).toMatchObject({ release: first, via: "rollback" });
    expect(repaired.releases.find((r) => r.id === second)?.rolledBack).toBe(true);
  });
});

describe("deploy and rollback on local: failures", () => {
  it("a missing build is refused before anything is copied or started, and the lock is free", async () => {
    const before = await snapshot(stateDir);
    const opts = context();
    const r = await runStep(
      deployCommand(),
      { positionals: ["tiny"] },
      {
        ...opts,
        config: (w) => {
          const c = tinyConfig(w);
          return { ...c, apps: { tiny: { ...c.apps.tiny, artifacts: ["dist"] } } };
        },
      },
    );
    expect(r.error?.name).toBe("DeployError");
    expect(r.error?.message).toBe("no build output for tiny: apps/tiny/dist not found");
    expect(r.error?.fix).toBe("Build first: `pnpm turbo run build` (production-deploy does it for you).");
    expect(await snapshot(stateDir)).toEqual(before);
    expect((await opsRows(db, ENV)).locked).toBe(false);
  });

  it("rollback --to a release that does not exist is refused before the lock", async () => {
    const r = await runStep(rollbackCommand(), { values: { app: "tiny", to: "20200101-000000-dead" } }, context());
    expect(r.error?.name).toBe("RollbackError");
    expect(r.error?.message).toMatch(/^nothing to roll back to for tiny \(.*20200101-000000-dead.*\)$/);
    expect((await opsRows(db, ENV)).locked).toBe(false);
  });
});
