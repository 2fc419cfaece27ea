// Each step's dry run against its apply, in-process on the local target with a real database
// (DATABASE_URL) and a recording runner: the dry run changes nothing (database and state folder
// compared before/after) and prints the very actions apply then runs, in order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpsCommand } from "../../src/cli/run-ops.ts";
import { lockCommand } from "../../src/steps/lock.ts";
import { migrateCommand } from "../../src/steps/migrate.ts";
import { secretsCommand } from "../../src/steps/secrets.ts";
import { databaseSnapshot, folderSnapshot } from "../e2e/snapshot.ts";
import { testContext } from "../setup/context.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
let stateDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  stateDir = mkdtempSync(join(tmpdir(), "ops-plans-"));
});
afterAll(async () => {
  await db?.drop();
  rmSync(stateDir, { recursive: true, force: true });
});

const events = (lines: string[]) => lines.map((l) => JSON.parse(l) as { kind: string; actions?: unknown[]; action?: unknown });
const norm = (v: unknown) => JSON.stringify(v).replace(/\d{8}-\d{6}-[0-9a-f]{4}/g, "<run>");

// biome-ignore lint/suspicious/noExplicitAny: any command, whatever its flags
async function dryThenApply(command: () => OpsCommand<any>, positionals: string[], flags: { yes?: boolean } = {}) {
  const env = { DATABASE_URL: db.url, OPS_STATE_DIR: stateDir, OPS_ENV: "plans" };
  const before = { db: await databaseSnapshot(db.url), files: folderSnapshot(stateDir) };
  const dry = await testContext({ env, flags: { dryRun: true, ...flags } });
  await command().run(dry.ctx, { values: {}, positionals });
  expect({ db: await databaseSnapshot(db.url), files: folderSnapshot(stateDir) }).toEqual(before);
  const printed = events(dry.lines).find((e) => e.kind === "plan")!.actions!;
  const live = await testContext({ env, flags });
  await command().run(live.ctx, { values: {}, positionals });
  const applied = events(live.lines)
    .filter((e) => e.kind === "action")
    .map((e) => e.action);
  expect(applied.map(norm)).toEqual(printed.map(norm));
  return { printed: printed as { kind: string; description: string }[], commands: live.commands };
}

describe("dry run = apply, and a dry run changes nothing (local target, in-process)", () => {
  it("secrets sync: generates the development secrets and stages them, under the lock", async () => {
    const { printed } = await dryThenApply(secretsCommand, ["sync"]);
    expect(printed.map((a) => a.kind)).toEqual(["db", "file", "file", "db"]);
    expect(printed[1]!.description).toMatch(
      /^generate SESSION_SECRET, BACKEND_AUTH_TOKEN \(32 random bytes each\) into .*secrets\.env \(mode 0600\)$/,
    );
  });

  it("migrate: applies the pending files; a second dry run has nothing to apply", async () => {
    const { printed } = await dryThenApply(migrateCommand, []);
    expect(printed.map((a) => a.description)).toEqual([
      expect.stringMatching(/^take the deploy lock of "plans"/),
      expect.stringMatching(/^apply 1_init\.sql, 2_release-starts-host\.sql \(each in its own transaction/),
      expect.stringMatching(/^record run <?\S+ as succeeded/),
    ]);
    const again = await testContext({ env: { DATABASE_URL: db.url, OPS_STATE_DIR: stateDir, OPS_ENV: "plans" }, flags: { dryRun: true } });
    await migrateCommand().run(again.ctx, { values: {}, positionals: [] });
    const plan = events(again.lines).find((e) => e.kind === "plan") as unknown as { actions: { description: string }[]; notes: string[] };
    expect(plan.notes).toEqual(["schema version 2; 0 pending of 2"]);
    expect(plan.actions.map((a) => a.description)).toEqual([
      expect.stringMatching(/^take the deploy lock/),
      expect.stringMatching(/^record run/),
    ]);
  });

  it("secrets rotate: writes the new value (the next deploy uses it)", async () => {
    const { printed } = await dryThenApply(secretsCommand, ["rotate", "BACKEND_AUTH_TOKEN"]);
    expect(printed).toHaveLength(1);
    expect(printed[0]!.description).toMatch(
      /^write a new 32-byte value for BACKEND_AUTH_TOKEN to .*secrets\.env \(previous file kept as .*\.bak\)$/,
    );
  });

  it("secrets list: shows what sync would do, writes nothing and generates nothing", async () => {
    const env = { DATABASE_URL: db.url, OPS_STATE_DIR: stateDir, OPS_ENV: "plans-list" };
    const before = { db: await databaseSnapshot(db.url), files: folderSnapshot(stateDir) };
    const t = await testContext({ env });
    await secretsCommand().run(t.ctx, { values: {}, positionals: ["list"] });
    expect({ db: await databaseSnapshot(db.url), files: folderSnapshot(stateDir) }).toEqual(before);
    const plans = events(t.lines).filter((e) => e.kind === "plan") as unknown as { step: string; actions: { kind: string }[] }[];
    expect(plans.map((p) => [p.step, p.actions.map((a) => a.kind)])).toEqual([["secrets (what `sync` would do)", ["file", "file"]]]);
    expect(t.commands).toEqual([]);
  });

  it("lock break: deletes the lock row", async () => {
    const { printed } = await dryThenApply(lockCommand, ["break"], { yes: true });
    expect(printed).toEqual([expect.objectContaining({ kind: "db", description: 'delete the deploy lock of "plans" (it is free)' })]);
  });
});
