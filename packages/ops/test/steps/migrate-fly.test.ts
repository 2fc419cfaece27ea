// `migrate` on the fly target, in-process: the restore point (Neon stand-in, an in-process HTTP
// server) and the pending files are the plan; the dry run creates no branch, schema or row; a
// failed restore point applies nothing; a pooler URL is refused before connecting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateCommand } from "../../src/steps/migrate.ts";
import { rollbackCommand } from "../../src/steps/rollback.ts";
import { type FlySteps, flySteps, opsRows } from "../setup/fly-steps.ts";
import { dryThenApply, runStep, snapshot } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("migrate-fly");
});
afterAll(() => w?.close());

const branches = () => [...w.neon.state.branches.values()].map((b) => b.name).sort();
const tables = async () => {
  const c = await w.db.connect();
  try {
    return (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename);
  } finally {
    await c.end();
  }
};

describe("migrate on fly", () => {
  it("a failed restore point stops the step before any file is applied, and releases the lock", async () => {
    w.neon.knobs.failNextOperation = { action: "create_branch", status: "failed", error: "out of branches" };
    const r = await runStep(migrateCommand(), {}, w.context());
    expect(r.error?.name).toBe("NeonOperationError");
    expect(r.error?.message).toMatch(/^Neon operation \S+ \(create_branch on br-\S+\) ended "failed": out of branches$/);
    expect(r.error?.fix).toMatch(/^See the operation in the Neon console .*fix the cause and run this again\.$/);
    expect(await tables()).toEqual([]);
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "migrate", status: "failed", migrations_applied: [], restore_point: null });
  });

  it("takes a restore point, then applies the pending files; the dry run created no branch", async () => {
    const before = branches();
    let afterDry: string[] = [];
    const { printed } = await dryThenApply(
      migrateCommand,
      {},
      () => {
        afterDry = branches();
        return w.context();
      },
      { stateDir: w.stateDir, dbUrl: w.db.url },
    );
    // `context()` of apply ran after the dry run: the dry run created no Neon branch.
    expect(afterDry).toEqual(before);
    expect(printed.map((a) => a.kind)).toEqual(["db", "http", "db", "db"]);
    expect(printed[1]!.description).toBe("take a restore point: a Neon branch off the production branch, now (Neon API: create branch)");
    expect(printed[2]!.description).toMatch(/^apply 1_init\.sql, 2_release-starts-host\.sql \(each in its own transaction/);
    const created = branches().filter((b) => !before.includes(b));
    expect(created).toHaveLength(1);
    const { history } = await opsRows(w.db, w.env);
    const branchId = [...w.neon.state.branches.values()].find((b) => b.name === created[0])!.id;
    expect(history.at(-1)).toMatchObject({
      kind: "migrate",
      status: "succeeded",
      migrations_applied: ["0_create-migrations-table.sql", "1_init.sql", "2_release-starts-host.sql"],
      restore_point: branchId,
    });
    expect(await tables()).toContain("migrations");
  });

  it("with nothing pending: no restore point, nothing applied", async () => {
    const before = await snapshot(w.stateDir, w.db.url);
    const r = await runStep(migrateCommand(), {}, w.context({ flags: { dryRun: true } }));
    expect(r.error).toBeUndefined();
    expect(await snapshot(w.stateDir, w.db.url)).toEqual(before);
    const plan = r.events.find((e) => e.kind === "plan") as { actions: { kind: string }[]; notes: string[] };
    expect(plan.notes).toEqual(["schema version 2; 0 pending of 2"]);
    expect(plan.actions.map((a) => a.kind)).toEqual(["db", "db"]);
  });

  it("rollback --db restores the branch from the newest restore point as printed; the dry run changes nothing on Neon", async () => {
    const point = (await opsRows(w.db, w.env)).history.findLast((h) => h.restore_point)!.restore_point as string;
    const restores = w.neon.state.restores.length;
    const neonState = () => [w.neon.state.branches.size, w.neon.state.restores.length];
    // Neon as each run starts: the dry run's, then apply's (after the dry run).
    const seenByRun: number[][] = [];
    const { printed } = await dryThenApply(
      rollbackCommand,
      { values: { db: true } },
      () => {
        seenByRun.push(neonState());
        return { ...w.context(), flags: { yes: true } };
      },
      { stateDir: w.stateDir, dbUrl: w.db.url },
    );
    expect(seenByRun[1]).toEqual(seenByRun[0]);
    expect(printed.map((a) => a.kind)).toEqual(["db", "db", "http", "db", "db"]);
    expect(printed[2]!.description).toMatch(
      new RegExp(`^restore \\S+ from ${point} \\(Neon API: POST …/branches/${w.neon.defaultBranchId}/restore\\)$`),
    );
    expect(w.neon.state.restores.slice(restores)).toEqual([
      expect.objectContaining({ targetBranchId: w.neon.defaultBranchId, sourceBranchId: point }),
    ]);
    // The history survived the restore, and records it.
    expect((await opsRows(w.db, w.env)).history.at(-1)).toMatchObject({ kind: "rollback", status: "succeeded", restore_point: point });
  });

  it("a pooler URL is refused before connecting, naming the direct host", async () => {
    const r = await runStep(
      migrateCommand(),
      {},
      w.context({
        env: { MIGRATION_DATABASE_URL: "postgresql://app:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/app?sslmode=require" },
      }),
    );
    expect(r.error?.message).toMatch(/pooler/);
    expect(r.error?.message).toContain("ep-cool-darkness-123456.us-east-2.aws.neon.tech");
    expect(r.error?.message).not.toContain(":pw@");
  });
});
