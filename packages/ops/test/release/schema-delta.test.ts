import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/db/history.ts";
import {
  appliedAfter,
  describeSchemaDelta,
  describeUndoneMigrations,
  readMigrationsTable,
  releaseBaseline,
  type AppliedMigrationRow,
} from "../../src/release/schema-delta.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

const run = (runId: string, startedAt: string, over: Partial<HistoryEntry>): HistoryEntry => ({
  runId,
  environment: "production",
  target: "fly",
  kind: "deploy",
  status: "succeeded",
  actor: "a",
  host: "h",
  gitSha: "abc",
  startedAt: new Date(startedAt),
  releases: {},
  migrationsApplied: [],
  durationsMs: {},
  ...over,
});
const row = (id: number, name: string, at: string): AppliedMigrationRow => ({ id, name, executedAt: new Date(at) });

// 1 and 2 by this tool; 3 by hand after R2 was deployed; 4 by this tool in run R4.
const rows = [
  row(1, "init", "2026-12-01T10:00:00Z"),
  row(2, "add-users", "2026-12-02T10:00:00Z"),
  row(3, "hand-fix", "2026-12-03T09:00:00Z"),
  row(4, "add-sessions", "2026-12-04T10:00:00Z"),
];

describe("releaseBaseline: the release's record first, then the time it was made", () => {
  const history = [
    run("R1", "2026-12-01T09:59:00Z", {
      releases: { client: { from: null, to: "R1" } },
      schemaVersion: 1,
      migrationsApplied: ["1_init.sql"],
    }),
    run("R2", "2026-12-02T09:59:00Z", {
      releases: { client: { from: "R1", to: "R2" } },
      schemaVersion: 2,
      migrationsApplied: ["2_add-users.sql"],
    }),
    // A rollback to R1 later: a rollback row is no record of R1's schema.
    run("RB", "2026-12-03T12:00:00Z", { kind: "rollback", releases: { client: { from: "R2", to: "R1" } }, schemaVersion: 9 }),
    // R2 deployed again by a run that recorded no schema version (a row from before the column): ignored.
    run("R2b", "2026-12-03T13:00:00Z", { releases: { client: { from: "R1", to: "R2" } } }),
    run("R4", "2026-12-04T09:59:00Z", {
      releases: { client: { from: "R2", to: "R4" } },
      schemaVersion: 4,
      migrationsApplied: ["4_add-sessions.sql"],
    }),
  ];

  it.each([
    ["R2 (deployed at version 2)", "R2", "2026-12-02T10:05:00Z", { kind: "schema-version", version: 2, runId: "R2" }, [3, 4]],
    ["R1 (its rollback row does not count)", "R1", undefined, { kind: "schema-version", version: 1, runId: "R1" }, [2, 3, 4]],
    ["R4 (the newest: nothing since)", "R4", undefined, { kind: "schema-version", version: 4, runId: "R4" }, []],
    // A release made by hand: only its time is known; 09:00 on the 3rd is before it, so not listed.
    ["v7 made by hand at 2026-12-03T09:00:00Z", "v7", "2026-12-03T09:00:00Z", { kind: "made-at", at: "2026-12-03T09:00:00.000Z" }, [4]],
    ["v6 made by hand with an offset", "v6", "2026-12-02T12:00:00+02:00", { kind: "made-at", at: "2026-12-02T10:00:00.000Z" }, [3, 4]],
    ["v5 with no time at all", "v5", undefined, { kind: "unknown" }, [1, 2, 3, 4]],
    ["v5 with an unreadable time", "v5", "yesterday", { kind: "unknown" }, [1, 2, 3, 4]],
  ])("%s", (_name, release, madeAt, expected, ids) => {
    const b = releaseBaseline(history, "client", release, madeAt);
    expect(b).toEqual({ app: "client", release, ...expected });
    expect(appliedAfter(rows, b).map((r) => r.id)).toEqual(ids);
  });

  it("records are per app: the backend's R2 has no record, so its time is used", () => {
    expect(releaseBaseline(history, "backend", "R2", "2026-12-02T10:05:00Z")).toEqual({
      kind: "made-at",
      app: "backend",
      release: "R2",
      at: "2026-12-02T10:05:00.000Z",
    });
  });
});

describe("describeSchemaDelta", () => {
  it("names each migration, when it was applied and which ones this tool did not apply, and where the list comes from", () => {
    expect(
      describeSchemaDelta({
        migrations: [
          { id: 3, name: "hand-fix", executedAt: "2026-12-03T09:00:00.000Z", byThisTool: false },
          { id: 4, name: "add-sessions", executedAt: "2026-12-04T10:00:00.000Z", byThisTool: true },
        ],
        source: "the database's migrations table (postgres-migrations); client R2 was deployed at schema version 2 (run R2)",
        fromDatabase: true,
      }),
    ).toBe(
      "migrations applied since that release stay applied: 3 hand-fix (applied 2026-12-03T09:00:00.000Z, not by this tool), 4 add-sessions (applied 2026-12-04T10:00:00.000Z) [from the database's migrations table (postgres-migrations); client R2 was deployed at schema version 2 (run R2)]",
    );
    expect(describeSchemaDelta({ migrations: [], source: "x", fromDatabase: true })).toBeUndefined();
    // When the table could not be read, an empty list is no all-clear.
    expect(describeSchemaDelta({ migrations: [], source: "this tool's deploy history only: …", fromDatabase: false })).toBe(
      "migrations applied since that release: none recorded by this tool [from this tool's deploy history only: …]",
    );
  });
});

describe("describeUndoneMigrations: what a database restore takes back", () => {
  it.each([
    [
      "a restore point taken before migrations 3 and 4",
      "2026-12-03T08:59:59.000Z",
      "the schema goes back too: 3 hand-fix (applied 2026-12-03T09:00:00.000Z), 4 add-sessions (applied 2026-12-04T10:00:00.000Z) ran after 2026-12-03T08:59:59.000Z and are undone (the database's migrations table); the apps that serve must work with the schema before them",
    ],
    [
      "a time exactly when 3 ran (not after it): only 4",
      "2026-12-03T09:00:00.000Z",
      "the schema goes back too: 4 add-sessions (applied 2026-12-04T10:00:00.000Z) ran after 2026-12-03T09:00:00.000Z and is undone (the database's migrations table); the apps that serve must work with the schema before it",
    ],
    [
      "a time after every migration",
      "2026-12-05T00:00:00.000Z",
      "no migration ran after 2026-12-05T00:00:00.000Z, so the schema stays as it is (the database's migrations table)",
    ],
  ])("%s", (_name, at, line) => {
    expect(describeUndoneMigrations(rows, at)).toBe(line);
  });
  it("says so when the table could not be read", () => {
    expect(describeUndoneMigrations({ error: "connect ECONNREFUSED 127.0.0.1:5432" }, "2026-12-05T00:00:00.000Z")).toBe(
      "which migrations the restore takes back could not be read (connect ECONNREFUSED 127.0.0.1:5432); check `pnpm ops:history`",
    );
  });
});

describe("readMigrationsTable (real Postgres)", () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = await db.connect();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("is empty when postgres-migrations never ran", async () => {
    expect(await readMigrationsTable(client)).toEqual([]);
  });

  it("reads postgres-migrations' table as the library creates it, without id 0, executed_at in the zone that wrote it", async () => {
    // The table exactly as postgres-migrations 5.3.0's 0_create-migrations-table.sql creates it.
    await client.query(`CREATE TABLE IF NOT EXISTS migrations (
      id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL, hash varchar(40) NOT NULL,
      executed_at timestamp DEFAULT current_timestamp)`);
    await client.query("SET TimeZone = 'Asia/Tokyo'");
    await client.query(`INSERT INTO migrations (id, name, hash, executed_at) VALUES
      (0, 'create-migrations-table', 'e18db593bcde2aca2a408c4d1100f6abba2195df', '2026-12-01 18:59:00'),
      (2, 'add-users', 'b', '2026-12-02 19:00:00'),
      (1, 'init', 'a', '2026-12-01 19:00:00')`);
    expect(await readMigrationsTable(client)).toEqual([
      { id: 1, name: "init", executedAt: new Date("2026-12-01T10:00:00Z") },
      { id: 2, name: "add-users", executedAt: new Date("2026-12-02T10:00:00Z") },
    ]);
  });
});
