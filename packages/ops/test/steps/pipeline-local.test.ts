// The pipeline steps on the local target, in-process with a real database (DATABASE_URL) and a
// recording runner: preflight → secrets sync → migrate → finish, each a dry run then apply; the
// dry runs write nothing and apply runs what they printed. (Deploying and smoke-checking what
// serves start processes: test/steps/deploy-local.test.ts and the e2e suites.) Then the failure
// paths that stop a run.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/local/process-utils.ts";
import { finishCommand } from "../../src/steps/finish.ts";
import { lockCommand } from "../../src/steps/lock.ts";
import { migrateCommand } from "../../src/steps/migrate.ts";
import { preflightCommand } from "../../src/steps/preflight.ts";
import { secretsCommand } from "../../src/steps/secrets.ts";
import { smokeCommand } from "../../src/steps/smoke.ts";
import { opsRows } from "../setup/fly-steps.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";
import { scriptedFly } from "../setup/scripted-fly.ts";
import { type AnyCommand, argvOf, dryThenApply, runStep, snapshot } from "../setup/step-run.ts";

const ENV = "pipeline-local";
let db: TestDatabase;
let stateDir: string;
let ports: { client: number; backend: number };

beforeAll(async () => {
  db = await createTestDatabase();
  stateDir = mkdtempSync(join(tmpdir(), "ops-pipeline-local-"));
  ports = { client: await freePort(), backend: await freePort() };
});
afterAll(async () => {
  await db?.drop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A program that is not this environment's, listening on the client's port. */
async function holdClientPort(): Promise<Server> {
  const other = createServer((_req, res) => res.end("someone else"));
  await new Promise<void>((r) => other.listen(ports.client, "127.0.0.1", r));
  return other;
}

const context = () => ({
  // Tool probes answer like the tools; git like a clean checkout.
  runner: scriptedFly({ apps: {} }).runner,
  flags: { pipeline: true },
  env: {
    OPS_ENV: ENV,
    OPS_STATE_DIR: stateDir,
    DATABASE_URL: db.url,
    OPS_LOCAL_CLIENT_PORT: String(ports.client),
    OPS_LOCAL_BACKEND_PORT: String(ports.backend),
  },
});
const seen = () => ({ stateDir, dbUrl: db.url });
const step = (command: () => AnyCommand, positionals: string[] = []) => dryThenApply(command, { positionals }, context, seen());

describe("the local pipeline, step by step: dry run = apply", () => {
  it("preflight → secrets sync → migrate → finish", async () => {
    const preflight = await step(() => preflightCommand());
    // DATABASE_URL is given: no Postgres to start, nothing to repair.
    expect(preflight.printed.map((a) => a.kind)).toEqual(["db", "file"]);
    const runId = preflight.live.ctx.runs.currentRunId()!;
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);

    const sync = await step(secretsCommand, ["sync"]);
    expect(sync.printed.map((a) => a.kind)).toEqual(["file", "file"]);
    const migrate = await step(migrateCommand);
    expect(migrate.printed.map((a) => a.kind)).toEqual(["db"]);

    const finish = await step(finishCommand);
    expect(finish.printed.map((a) => a.kind)).toEqual(["db", "file"]);
    const { history, locked } = await opsRows(db, ENV);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({
      kind: "deploy",
      status: "succeeded",
      migrations_applied: ["0_create-migrations-table.sql", "1_init.sql", "2_release-starts-host.sql"],
    });
    expect(readFileSync(join(stateDir, "runs", runId, "report.md"), "utf8")).toContain(runId);
    // The last line says where the environment serves: here OPS_LOCAL_CLIENT_PORT, not the default.
    const infos = finish.live.events.flatMap((e) => (e.kind === "info" ? [e.message] : []));
    expect(infos.at(-1)).toBe(`serving at http://127.0.0.1:${ports.client}`);
    // Every command of the whole run was a read (git, tool probes; turbo's plan, asked by the graph
    // and the pass-through checks; squawk).
    const reads = [preflight, sync, migrate, finish]
      .flatMap((s) => s.live.commands.map(argvOf))
      .filter((a) => a[0] !== "git" && !["go", "pnpm"].includes(a[0]!));
    expect(reads).toHaveLength(3);
    expect(reads.filter((a) => a.join(" ").endsWith("run production-deploy --dry=json"))).toHaveLength(2);
    expect(reads).toContainEqual(expect.arrayContaining(["--reporter", "json"]));
  });
});

describe("the local pipeline: failures", () => {
  it("a step with no run to join refuses with the command that starts one", async () => {
    const before = await snapshot(stateDir, db.url);
    const r = await runStep(smokeCommand(), {}, context());
    expect(r.error?.name).toBe("RunStateError");
    expect(r.error?.fix).toMatch(/pnpm turbo run production-deploy/);
    expect(await snapshot(stateDir, db.url)).toEqual(before);
  });

  it("a failed smoke check (nothing deployed in the run) marks the run failed and frees the lock", async () => {
    expect((await runStep(preflightCommand(), {}, context())).error).toBeUndefined();
    const r = await runStep(smokeCommand(), {}, context());
    expect(r.error?.name).toBe("SmokeCheckError");
    expect(r.error?.message).toContain("the local router is not running");
    expect(r.events).toContainEqual({
      kind: "warn",
      message: "nothing to roll back: no app of this run had a previous release",
      fix: "Roll back by hand with `pnpm ops:rollback` if needed.",
    });
    const { history, locked } = await opsRows(db, ENV);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "deploy", status: "failed" });
    expect((await runStep(lockCommand(), { positionals: ["status"] }, context())).events).toContainEqual({ kind: "info", message: "free" });
  });

  it("preflight with the client's port taken by another program fails that check and opens no run", async () => {
    const other = await holdClientPort();
    try {
      const before = await snapshot(stateDir, db.url);
      const r = await runStep(preflightCommand(), {}, context());
      expect(r.error?.message).toBe("1 check failed: ports.client");
      expect(r.events).toContainEqual({
        kind: "check",
        result: {
          id: "ports.client",
          status: "fail",
          message: expect.stringMatching(
            new RegExp(
              `^127\\.0\\.0\\.1:${ports.client} \\(OPS_LOCAL_CLIENT_PORT\\) is used by another program \\(held by pid ${process.pid}: `,
            ),
          ),
          where: "OPS_LOCAL_CLIENT_PORT",
          fix: "Stop that program or set OPS_LOCAL_CLIENT_PORT to a free port.",
        },
      });
      expect(await snapshot(stateDir, db.url)).toEqual(before);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
});
