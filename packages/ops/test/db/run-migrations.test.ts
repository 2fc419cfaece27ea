import { createHash } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationError } from "../../src/errors.ts";
import {
  MIGRATIONS_LOCK_KEY,
  assertNoHashDrift,
  listMigrationFiles,
  pendingMigrations,
  readAppliedMigrations,
  runMigrations,
  type RunMigrationsOptions,
} from "../../src/migrations/run-migrations.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

/** The repository's own migrations folder. */
const REPO_MIGRATIONS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../migrations");
const SQL = "CREATE TABLE t (id int);\n";
const sha1 = (s: string) => createHash("sha1").update(s, "utf8").digest("hex");

const dbs: TestDatabase[] = [];
const dirs: string[] = [];

async function freshDb(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  dbs.push(db);
  return db;
}

function tempMigrations(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "ops-migrations-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const options = (db: TestDatabase, over: Partial<RunMigrationsOptions> = {}): RunMigrationsOptions => ({
  lockTimeoutMs: 30_000,
  deadlineMs: 120_000,
  connectAgain: () => db.connect("ops-lock-probe"),
  ...over,
});

afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("runMigrations on the repository's migrations (real Postgres)", () => {
  let db: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    db = await freshDb();
    client = await db.connect();
  });

  it("applies every file, the library's table migration first", async () => {
    const files = await listMigrationFiles(REPO_MIGRATIONS);
    expect(files.map((f) => f.fileName)).toEqual(["1_init.sql", "2_release-starts-host.sql"]);
    expect(await readAppliedMigrations(client)).toEqual([]);
    expect(pendingMigrations(files, []).map((f) => f.fileName)).toEqual(["1_init.sql", "2_release-starts-host.sql"]);

    const log: string[] = [];
    const applied = await runMigrations(client, REPO_MIGRATIONS, options(db, { log: (m) => log.push(m) }));
    expect(applied).toEqual(["0_create-migrations-table.sql", "1_init.sql", "2_release-starts-host.sql"]);
    expect(log).toContain("... acquired advisory lock");

    const rows = await readAppliedMigrations(client);
    expect(rows.map((r) => [r.id, r.name])).toEqual([
      [1, "init"],
      [2, "release-starts-host"],
    ]);
    expect(pendingMigrations(files, rows)).toEqual([]);
    // the migrations really ran
    const cols = await client.query(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'release_starts' ORDER BY ordinal_position",
    );
    expect(cols.rows.map((r) => r.column_name)).toEqual(["release_id", "first_started_at", "last_started_at", "start_count", "last_host"]);
  });

  it("a second run applies nothing and finds no drift", async () => {
    expect(await runMigrations(client, REPO_MIGRATIONS, options(db))).toEqual([]);
    const files = await listMigrationFiles(REPO_MIGRATIONS);
    await expect(assertNoHashDrift(REPO_MIGRATIONS, files, await readAppliedMigrations(client))).resolves.toBeUndefined();
  });
});

describe("pendingMigrations", () => {
  const f = (id: number) => ({ id, name: `m${id}`, fileName: `${id}_m${id}.sql`, path: `/m/${id}_m${id}.sql` });
  it("keeps the files above the highest applied id", () => {
    const applied = [
      { id: 1, name: "m1", hash: "x" },
      { id: 2, name: "m2", hash: "y" },
    ];
    expect(pendingMigrations([f(1), f(2), f(3), f(4)], applied).map((x) => x.id)).toEqual([3, 4]);
    expect(pendingMigrations([f(1), f(2)], applied)).toEqual([]);
    expect(pendingMigrations([f(1)], []).map((x) => x.id)).toEqual([1]);
  });
});

describe("C-10: hash drift end to end (real Postgres)", () => {
  let db: TestDatabase;
  let client: pg.Client;
  let dir: string;

  beforeAll(async () => {
    db = await freshDb();
    client = await db.connect();
    dir = tempMigrations({ "1_init.sql": SQL });
    expect(await runMigrations(client, dir, options(db))).toEqual(["0_create-migrations-table.sql", "1_init.sql"]);
  });

  it("stores sha1(fileName + contents) for the applied file", async () => {
    expect(await readAppliedMigrations(client)).toEqual([{ id: 1, name: "init", hash: sha1(`1_init.sql${SQL}`) }]);
  });

  it("a CRLF checkout fails before migrating, naming the file, CRLF and both hashes", async () => {
    writeFileSync(join(dir, "1_init.sql"), SQL.replace(/\n/g, "\r\n"));
    const files = await listMigrationFiles(dir);
    const applied = await readAppliedMigrations(client);
    expect(pendingMigrations(files, applied)).toEqual([]);
    const err = await assertNoHashDrift(dir, files, applied).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const e = err as MigrationError;
    const expected = sha1(`1_init.sql${SQL}`);
    const actual = sha1("1_init.sql" + "CREATE TABLE t (id int);\r\n");
    expect(e.message).toBe(
      `applied migrations changed on disk:\n  1_init.sql (migration 1) no longer matches its applied hash (expected ${expected}, actual ${actual}): it now has CRLF line endings; the SQL is the same`,
    );
    expect(e.where).toBe(`${dir}/1_init.sql`);
    expect(e.fix).toContain('"*.sql text eol=lf" to .gitattributes');
    writeFileSync(join(dir, "1_init.sql"), SQL);
  });

  it("a rename to 0001_init.sql is reported as a rename", async () => {
    renameSync(join(dir, "1_init.sql"), join(dir, "0001_init.sql"));
    try {
      const files = await listMigrationFiles(dir);
      const err = await assertNoHashDrift(dir, files, await readAppliedMigrations(client)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      const e = err as MigrationError;
      expect(e.message).toContain(
        `0001_init.sql (migration 1) no longer matches its applied hash (expected ${sha1(`1_init.sql${SQL}`)}, actual ${sha1(`0001_init.sql${SQL}`)}): it was renamed from 1_init.sql`,
      );
      expect(e.where).toBe(`${dir}/0001_init.sql`);
      expect(e.fix).toContain("rename back to 1_init.sql (git mv 0001_init.sql 1_init.sql)");
    } finally {
      renameSync(join(dir, "0001_init.sql"), join(dir, "1_init.sql"));
    }
  });

  it("a failing migration names the file and Postgres' message; the earlier one stays committed", async () => {
    writeFileSync(join(dir, "2_bad.sql"), "INSERT INTO t VALUES (1);\nSELECT * FROM no_such_table;\n");
    const err = await runMigrations(client, dir, options(db)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const e = err as MigrationError;
    expect(e.message).toBe('migration 2_bad.sql failed: relation "no_such_table" does not exist');
    expect(e.where).toBe(`${dir}/2_bad.sql`);
    expect(e.fix).toContain("this migration was rolled back and later ones did not run");
    expect((await readAppliedMigrations(client)).map((r) => r.id)).toEqual([1]);
    // 1_init.sql's table exists; 2_bad.sql's insert was rolled back with it
    expect((await client.query("SELECT count(*)::int AS n FROM t")).rows[0].n).toBe(0);
    rmSync(join(dir, "2_bad.sql"));
  });
});

describe("C-13: a held migration lock ends in a clear error, not a hang (real Postgres)", () => {
  it("names the pid of the session holding the advisory lock", { timeout: 60_000 }, async () => {
    const db = await freshDb();
    const holder = await db.connect("someone-else-migrating");
    const holderPid = (await holder.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
    await holder.query(`SELECT pg_advisory_lock(${MIGRATIONS_LOCK_KEY})`);
    const client = await db.connect();
    const dir = tempMigrations({ "1_init.sql": SQL });

    const err = await runMigrations(client, dir, options(db, { lockTimeoutMs: 1_500 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const e = err as MigrationError;
    expect(e.message).toMatch(
      new RegExp(
        `^the migration lock \\(postgres-migrations advisory lock ${MIGRATIONS_LOCK_KEY}\\) is held by pid (\\d+) \\(someone-else-migrating from 127\\.0\\.0\\.1, connected since [0-9T:.Z-]+\\); waited 1500 ms$`,
      ),
    );
    expect(Number(/pid (\d+)/.exec(e.message)![1])).toBe(holderPid);
    expect(e.fix).toContain("pg_terminate_backend(<pid>)");
    // nothing was applied, and the holder still holds its lock
    const probe = await db.connect();
    expect(await readAppliedMigrations(probe)).toEqual([]);
    const held = await probe.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1", [
      holderPid,
    ]);
    expect(held.rows[0].n).toBe(1);
  });

  it("names the holder in this database, not a session holding the same key in another database", { timeout: 60_000 }, async () => {
    const other = await freshDb();
    const elsewhere = await other.connect("holder-in-another-database");
    await elsewhere.query(`SELECT pg_advisory_lock(${MIGRATIONS_LOCK_KEY})`);
    const db = await freshDb();
    const holder = await db.connect("holder-in-this-database");
    const holderPid = (await holder.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
    await holder.query(`SELECT pg_advisory_lock(${MIGRATIONS_LOCK_KEY})`);
    const client = await db.connect();
    const dir = tempMigrations({ "1_init.sql": SQL });

    const err = await runMigrations(client, dir, options(db, { lockTimeoutMs: 500 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toContain(`is held by pid ${holderPid} (holder-in-this-database from 127.0.0.1, connected since `);
  });

  it("a migration still running at the overall deadline ends in a MigrationError", { timeout: 60_000 }, async () => {
    const db = await freshDb();
    const client = await db.connect();
    const dir = tempMigrations({ "1_slow.sql": "SELECT pg_sleep(5);\n" });
    const err = await runMigrations(client, dir, options(db, { deadlineMs: 800 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toBe("migrations did not finish within 800 ms");
  });
});
