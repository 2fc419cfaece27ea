// `migrate` alone on the local target when a file fails: postgres-migrations applies each file in
// its own transaction, so the files before it stay applied and the failed one leaves nothing; the
// error names the file and Postgres' message, the run is recorded as failed, the lock is free. Also: a file that breaks the naming rules is refused before connecting.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineOps } from "../../src/cli/run-ops.ts";
import { newRun, openRunActions } from "../../src/pipeline/run.ts";
import { applyPlan } from "../../src/plan/plan.ts";
import { migrateCommand } from "../../src/steps/migrate.ts";
import { secretsCommand } from "../../src/steps/secrets.ts";
import { repoRoot } from "../setup/context.ts";
import { opsRows } from "../setup/fly-steps.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";
import { runStep, snapshot } from "../setup/step-run.ts";

const ENV = "migrate-local";
let root: string;
let db: TestDatabase;
let fresh: TestDatabase;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "ops-migrate-local-"));
  symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
  copyFileSync(join(repoRoot, "ops.config.ts"), join(root, "ops.config.ts"));
  writeFileSync(join(root, "pnpm-workspace.yaml"), "packages: []\n");
  mkdirSync(join(root, "migrations"));
  writeFileSync(join(root, "migrations", "1_widgets.sql"), "CREATE TABLE widgets (id bigint PRIMARY KEY);\n");
  writeFileSync(
    join(root, "migrations", "2_gadgets.sql"),
    "CREATE TABLE gadgets (id bigint PRIMARY KEY, widget bigint REFERENCES nothing_here (id));\n",
  );
  db = await createTestDatabase();
  fresh = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
  await fresh?.drop();
  rmSync(root, { recursive: true, force: true });
});

const context = () => ({ env: { OPS_REPO_ROOT: root, OPS_ENV: ENV, OPS_STATE_DIR: join(root, ".ops"), DATABASE_URL: db.url } });
const tables = async () => {
  const c = await db.connect();
  try {
    return (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename);
  } finally {
    await c.end();
  }
};

describe("migrate on local: failures", () => {
  it("a failing file: the files before it stay applied, it leaves nothing, the error names it", async () => {
    const r = await runStep(migrateCommand(), {}, context());
    expect(r.error?.name).toBe("MigrationError");
    expect(r.error?.message).toBe(
      'migration 2_gadgets.sql failed: relation "nothing_here" does not exist; applied before it, and kept: 0_create-migrations-table.sql, 1_widgets.sql',
    );
    expect(r.error?.where).toBe(join(root, "migrations", "2_gadgets.sql"));
    expect(r.error?.fix).toBe(
      "Fix the SQL in a new migration or in this file if it never applied anywhere; this migration was rolled back and later ones did not run.",
    );
    expect(await tables()).toEqual(["migrations", "widgets"]);
    const { history, locked } = await opsRows(db, ENV);
    expect(locked).toBe(false);
    // The history lists what did apply (each file commits on its own).
    expect(history.at(-1)).toMatchObject({
      kind: "migrate",
      status: "failed",
      migrations_applied: ["0_create-migrations-table.sql", "1_widgets.sql"],
    });
  });

  it("in a pipeline run: the run's history lists the files that applied before the failing one", async () => {
    // As `pnpm turbo` runs the tasks: one run id for the invocation.
    const runId = "20261207-120000-abcd";
    const env = { ...context().env, OPS_ENV: `${ENV}-pipeline`, DATABASE_URL: fresh.url, OPS_PIPELINE_RUN_ID: runId };
    // What preflight does first: open the run (the lock and the history row).
    const open = defineOps({
      name: "open",
      description: "open a pipeline run",
      async run(ctx) {
        const run = await newRun(ctx);
        await applyPlan(ctx, { step: "open", actions: openRunActions(ctx, run) });
      },
    });
    expect((await runStep(open, {}, { env, flags: { pipeline: true } })).error).toBeUndefined();
    const r = await runStep(migrateCommand(), {}, { env, flags: { pipeline: true } });
    expect(r.error?.message).toMatch(/^migration 2_gadgets\.sql failed: /);
    const { history, locked } = await opsRows(fresh, `${ENV}-pipeline`);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({
      kind: "deploy",
      status: "failed",
      migrations_applied: ["0_create-migrations-table.sql", "1_widgets.sql"],
    });
    // A task that starts after that failure (secrets sync, beside migrate) says the run ended and why.
    const sync = await runStep(secretsCommand(), { positionals: ["sync"] }, { env, flags: { pipeline: true } });
    expect(sync.error?.name).toBe("RunStateError");
    expect(sync.error?.message).toMatch(
      new RegExp(
        `^run ${runId} already ended \\(failed at db-migrate: migration 2_gadgets\\.sql failed: .+\\); sync-secrets did not start$`,
      ),
    );
  });

  it("a file that breaks the naming rules is refused before connecting: nothing is written", async () => {
    writeFileSync(join(root, "migrations", "4_skipped-three.sql"), "SELECT 1;\n");
    try {
      const before = await snapshot(join(root, ".ops"), db.url);
      const r = await runStep(migrateCommand(), {}, context());
      expect(r.error?.name).toBe("MigrationError");
      expect(r.error?.message).toBe("1 migration file problem; nothing was applied");
      expect(await snapshot(join(root, ".ops"), db.url)).toEqual(before);
    } finally {
      rmSync(join(root, "migrations", "4_skipped-three.sql"));
    }
  });
});
