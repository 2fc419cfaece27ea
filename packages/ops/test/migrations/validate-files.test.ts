import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMigrationFiles } from "postgres-migrations";
import { afterEach, describe, expect, it } from "vitest";
import { assertNoHashDrift } from "../../src/migrations/run-migrations.ts";
import {
  inspectMigrationFolder,
  listMigrationFiles,
  migrationFileHash,
  parseMigrationFileName,
  splitSqlStatements,
  validateMigrationFiles,
} from "../../src/migrations/validate-files.ts";
import type { CheckResult } from "../../src/preflight/types.ts";

const SQL = "CREATE TABLE t (id int);\n";
const dirs: string[] = [];

/** A temp folder holding exactly these files (string → UTF-8, Buffer → raw bytes; trailing / → folder). */
async function folder(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ops-migrations-"));
  dirs.push(dir);
  for (const [name, contents] of Object.entries(files)) {
    if (name.endsWith("/")) await mkdir(join(dir, name), { recursive: true });
    else await writeFile(join(dir, name), contents);
  }
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const fails = (results: CheckResult[]) => results.filter((r) => r.status === "fail");
const warns = (results: CheckResult[]) => results.filter((r) => r.status === "warn");

/** Whether postgres-migrations 5.3.0's own loader accepts the folder. */
async function libraryAccepts(dir: string): Promise<boolean> {
  try {
    await loadMigrationFiles(dir);
    return true;
  } catch {
    return false;
  }
}

describe("validateMigrationFiles: C-11 id rules, each set fails with exactly its rule", () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ["0000_init.sql, 0001_users.sql", { "0000_init.sql": SQL, "0001_users.sql": SQL }, "ids start at 1"],
    ["1_init.up.sql, 1_init.down.sql", { "1_init.up.sql": SQL, "1_init.down.sql": "DROP TABLE t;\n" }, "duplicate id 1"],
    ["1_a.sql, 2_b.sql, 4_c.sql", { "1_a.sql": SQL, "2_b.sql": SQL, "4_c.sql": SQL }, "missing id 3"],
    [
      "20240101120000_init.sql",
      { "20240101120000_init.sql": SQL },
      "ids must be consecutive from 1; timestamp-style ids are not supported",
    ],
    [
      "1_a.sql, 2_b.sql, helpers.js",
      { "1_a.sql": SQL, "2_b.sql": SQL, "helpers.js": "module.exports = {};\n" },
      "the library would load it as a migration",
    ],
  ];
  it.each(cases)("%s", async (_label, files, rule) => {
    const dir = await folder(files);
    const results = await validateMigrationFiles(dir);
    const failed = fails(results);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toContain(rule);
    expect(failed[0]!.fix).toBeTruthy();
    expect(failed[0]!.where).toContain(dir);
    // The library agrees that the folder is broken.
    expect(await libraryAccepts(dir)).toBe(false);
  });

  it("names the renames for a zero-based set", async () => {
    const [r] = fails(await validateMigrationFiles(await folder({ "0000_init.sql": SQL, "0001_users.sql": SQL })));
    expect(r!.id).toBe("migrations.ids");
    expect(r!.fix).toBe("renumber from 1 before anything is applied: 0000_init.sql → 0001_init.sql, 0001_users.sql → 0002_users.sql");
  });

  it("says down migrations are not supported for up/down pairs", async () => {
    const [r] = fails(await validateMigrationFiles(await folder({ "1_init.up.sql": SQL, "1_init.down.sql": SQL })));
    expect(r!.message).toBe(
      "duplicate id 1: 1_init.down.sql, 1_init.up.sql; down migrations are not supported (postgres-migrations runs every file, forward only)",
    );
  });

  it("proposes the rename that closes a gap", async () => {
    const [r] = fails(await validateMigrationFiles(await folder({ "1_a.sql": SQL, "2_b.sql": SQL, "4_c.sql": SQL })));
    expect(r!.message).toBe(
      "missing id 3: ids must be consecutive from 1 (postgres-migrations fails with Found a non-consecutive migration ID)",
    );
    expect(r!.fix).toContain("4_c.sql → 3_c.sql");
  });

  it.each([
    ["1_a.sql, notes.txt", { "1_a.sql": SQL, "notes.txt": "hello\n" }, "notes.txt"],
    ["1_a.sql, fixtures.psql", { "1_a.sql": SQL, "fixtures.psql": "\\i x\n" }, "fixtures.psql"],
  ])("%s passes with a warning", async (_label, files, other) => {
    const dir = await folder(files);
    const results = await validateMigrationFiles(dir);
    expect(fails(results)).toEqual([]);
    expect(results[0]).toMatchObject({ id: "migrations.files", status: "pass" });
    const [w] = warns(results);
    expect(w).toMatchObject({ id: "migrations.file-type", where: join(dir, other) });
    expect(w!.message).toContain("ignores files not ending in .sql or .js");
    expect(await libraryAccepts(dir)).toBe(true);
  });
});

describe("validateMigrationFiles: neighbours of C-11", () => {
  it("accepts 1..N with zero padding, mixed separators and upper-case extensions, like the library", async () => {
    const dir = await folder({ "0001_init.sql": SQL, "2-users.SQL": SQL, "3posts.sql": SQL, "4.sql": SQL });
    const results = await validateMigrationFiles(dir);
    expect(results).toEqual([
      {
        id: "migrations.files",
        status: "pass",
        message: `4 migrations (ids 1..4) in ${dir} follow the postgres-migrations 5.3.0 rules`,
        where: dir,
      },
    ]);
    expect(await libraryAccepts(dir)).toBe(true);
  });

  it("treats drizzle-style 0000..0002 as one 'ids start at 1' failure", async () => {
    const failed = fails(await validateMigrationFiles(await folder({ "0000_a.sql": SQL, "0001_b.sql": SQL, "0002_c.sql": SQL })));
    expect(failed.map((r) => r.message.split(":")[0])).toEqual(["ids start at 1"]);
  });

  it("reports a start at 0 and a gap separately", async () => {
    const failed = fails(await validateMigrationFiles(await folder({ "0_a.sql": SQL, "2_b.sql": SQL })));
    expect(failed.map((r) => r.message.split(":")[0])).toEqual(["ids start at 1", "missing id 1"]);
  });

  it("lists several missing ids", async () => {
    const [r] = fails(await validateMigrationFiles(await folder({ "1_a.sql": SQL, "3_b.sql": SQL, "6_c.sql": SQL })));
    expect(r!.message.startsWith("missing ids 2, 4, 5:")).toBe(true);
  });

  it("flags unix-second ids as timestamp-style and keeps 1..N around them", async () => {
    const failed = fails(await validateMigrationFiles(await folder({ "1_a.sql": SQL, "1700000000_b.sql": SQL })));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toBe("ids must be consecutive from 1; timestamp-style ids are not supported (1700000000_b.sql)");
  });

  it("treats two files with the same padded id as duplicates without the down-migration note", async () => {
    const [r] = fails(await validateMigrationFiles(await folder({ "1_a.sql": SQL, "01_b.sql": SQL })));
    expect(r!.message).toBe("duplicate id 1: 01_b.sql, 1_a.sql");
  });

  it("fails a .js migration with a valid name as a .js file, and still checks its id", async () => {
    const failed = fails(await validateMigrationFiles(await folder({ "1_a.sql": SQL, "2_b.JS": "module.exports={}" })));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toContain("2_b.JS is a .js file in the migrations folder: the library would load it as a migration");
  });

  it("fails a .sql file without a leading id with the library's 'Invalid file name'", async () => {
    const dir = await folder({ "1_a.sql": SQL, "seed.sql": SQL });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: "migrations.file-name", where: join(dir, "seed.sql") });
    expect(failed[0]!.message).toContain("Invalid file name: 'seed.sql'");
    expect(await libraryAccepts(dir)).toBe(false);
  });

  it("warns about files that look like migrations but are skipped (.ts, .sql.bak), ignores dotfiles and sub-folders", async () => {
    const dir = await folder({
      "1_a.sql": SQL,
      "2_b.ts": "export {}",
      "1_a.sql.bak": SQL,
      ".gitattributes": "*.sql text eol=lf\n",
      "README.md": "# m\n",
      "archive/": "",
    });
    await writeFile(join(dir, "archive", "9_old.sql"), SQL);
    const results = await validateMigrationFiles(dir);
    expect(fails(results)).toEqual([]);
    expect(warns(results).map((w) => w.where)).toEqual([join(dir, "1_a.sql.bak"), join(dir, "2_b.ts"), join(dir, "README.md")]);
    expect(warns(results)[0]!.message).toBe(
      "1_a.sql.bak looks like a migration but is not loaded: postgres-migrations only loads .sql and .js files",
    );
  });

  it("fails a sub-folder whose name ends in .sql (the library would read it as a file)", async () => {
    const dir = await folder({ "1_a.sql": SQL, "2_b.sql/": "" });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toContain("EISDIR");
    expect(await libraryAccepts(dir)).toBe(false);
  });

  it("fails an empty folder, a folder of non-migrations, and a missing folder", async () => {
    const empty = await folder({});
    expect(fails(await validateMigrationFiles(empty))).toEqual([
      {
        id: "migrations.folder",
        status: "fail",
        message: `no migrations in ${empty}: no file ending in .sql`,
        where: empty,
        fix: "add 1_<name>.sql, or point the migrate step at the right folder",
      },
    ]);
    const notes = await folder({ "notes.txt": "x" });
    expect(fails(await validateMigrationFiles(notes)).map((r) => r.id)).toEqual(["migrations.folder"]);
    const missing = join(empty, "nope");
    expect(await validateMigrationFiles(missing)).toEqual([
      {
        id: "migrations.folder",
        status: "fail",
        message: `the migrations folder ${missing} does not exist`,
        where: missing,
        fix: "create the folder with 1_<name>.sql in it, or point the migrate step at the right folder",
      },
    ]);
  });

  it("fails a dangling symlink instead of throwing", async () => {
    const dir = await folder({ "1_a.sql": SQL });
    await symlink(join(dir, "gone.sql"), join(dir, "2_b.sql"));
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed.map((r) => r.where)).toEqual([join(dir, "2_b.sql")]);
    expect(failed[0]!.message).toContain("cannot read 2_b.sql (ENOENT)");
  });

  it("fails a path that is a file", async () => {
    const dir = await folder({ "1_a.sql": SQL });
    const [r] = await validateMigrationFiles(join(dir, "1_a.sql"));
    expect(r).toMatchObject({ id: "migrations.folder", status: "fail" });
  });
});

describe("validateMigrationFiles: stored names", () => {
  it("fails a stored name over 100 characters (varchar(100)), counting characters not bytes", async () => {
    const ok = "é".repeat(100);
    const long = "a".repeat(101);
    const dir = await folder({ [`1_${ok}.sql`]: SQL, [`2_${long}.sql`]: SQL });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: "migrations.name", where: join(dir, `2_${long}.sql`) });
    expect(failed[0]!.message).toContain("is 101 characters");
  });

  it("fails two files with the same stored name", async () => {
    const failed = fails(await validateMigrationFiles(await folder({ "1_init.sql": SQL, "2-init.sql": SQL })));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toBe(
      'stored name "init" is used by 1_init.sql, 2-init.sql; migrations.name is UNIQUE, so the second one fails after its SQL has run',
    );
  });

  it("uses the whole file name when the name part is empty", () => {
    expect(parseMigrationFileName("2.sql")).toEqual({ id: 2, name: "2.sql", type: "sql" });
    expect(parseMigrationFileName("1_.sql")).toEqual({ id: 1, name: "1_.sql", type: "sql" });
    expect(parseMigrationFileName("0001_create-table.SQL")).toEqual({ id: 1, name: "create-table", type: "sql" });
    expect(parseMigrationFileName("-1_a.sql")).toEqual({ id: -1, name: "a", type: "sql" });
    expect(parseMigrationFileName("init.sql")).toBeUndefined();
  });
});

describe("validateMigrationFiles: bytes (C-10 before connecting)", () => {
  it("fails CRLF with the line of the first CRLF and the .gitattributes fix", async () => {
    const dir = await folder({ "1_init.sql": "-- init\nCREATE TABLE t (id int);\r\nSELECT 1;\r\n" });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: "migrations.crlf", where: `${join(dir, "1_init.sql")}:2` });
    expect(failed[0]!.message).toContain("CRLF line endings (first at line 2)");
    expect(failed[0]!.fix).toContain('"*.sql text eol=lf" to .gitattributes');
    expect(failed[0]!.fix).toContain("git add --renormalize .");
  });

  it("fails a lone carriage return too", async () => {
    const [r] = fails(await validateMigrationFiles(await folder({ "1_init.sql": "SELECT 1;\rSELECT 2;\n" })));
    expect(r!.message).toContain("a carriage return (\\r) (first at line 1)");
  });

  it("fails a UTF-8 BOM at line 1", async () => {
    const dir = await folder({ "1_init.sql": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SQL)]) });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: "migrations.bom", where: `${join(dir, "1_init.sql")}:1` });
    expect(failed[0]!.fix).toContain(".gitattributes");
  });

  it("reports BOM and CRLF together (a Notepad file)", async () => {
    const dir = await folder({ "1_init.sql": Buffer.from("\uFEFFCREATE TABLE t (id int);\r\n", "utf8") });
    expect(fails(await validateMigrationFiles(dir)).map((r) => r.id)).toEqual(["migrations.bom", "migrations.crlf"]);
  });

  it("fails bytes that are not UTF-8", async () => {
    const dir = await folder({ "1_init.sql": Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x27, 0xe9, 0x27, 0x3b, 0x0a]) });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed.map((r) => r.id)).toEqual(["migrations.encoding"]);
  });

  it("warns about an empty migration", async () => {
    const results = await validateMigrationFiles(await folder({ "1_init.sql": "-- nothing yet\n" }));
    expect(warns(results).map((r) => r.id)).toEqual(["migrations.empty-file"]);
  });
});

describe("validateMigrationFiles: CONCURRENTLY and other non-transactional statements", () => {
  const D = "-- postgres-migrations disable-transaction\n";
  const cic = "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n";

  it("passes one CONCURRENTLY statement with the directive (trailing semicolon and comments ignored)", async () => {
    const results = await validateMigrationFiles(await folder({ "1_a.sql": SQL, "2_idx.sql": `${D}-- build it\n${cic}/* done */\n` }));
    expect(fails(results)).toEqual([]);
    expect(warns(results)).toEqual([]);
  });

  it("fails CONCURRENTLY without the directive, naming file:line", async () => {
    const dir = await folder({ "1_a.sql": SQL, "2_idx.sql": `-- index\n\n${cic}` });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: "migrations.transaction", where: `${join(dir, "2_idx.sql")}:3` });
    expect(failed[0]!.message).toContain("CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
    expect(failed[0]!.fix).toContain('add "-- postgres-migrations disable-transaction"');
  });

  it("fails CONCURRENTLY with the directive but another statement in the file", async () => {
    const dir = await folder({ "1_a.sql": SQL, "2_idx.sql": `${D}ALTER TABLE t ADD COLUMN b int;\n${cic}` });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.where).toBe(`${join(dir, "2_idx.sql")}:3`);
    expect(failed[0]!.message).toContain("2_idx.sql has 2 statements");
  });

  it.each([
    ["DROP INDEX CONCURRENTLY t_id;\n", "DROP INDEX CONCURRENTLY"],
    ["REINDEX INDEX CONCURRENTLY t_id;\n", "REINDEX INDEX CONCURRENTLY"],
    ["create unique index concurrently if not exists u on t (id);\n", "CREATE UNIQUE INDEX CONCURRENTLY"],
    ["ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;\n", "ALTER TABLE P DETACH PARTITION"],
    ["VACUUM t;\n", "VACUUM"],
    ["CREATE DATABASE other;\n", "CREATE DATABASE"],
  ])("needs the directive for %j", async (statement, label) => {
    const [r] = fails(await validateMigrationFiles(await folder({ "1_a.sql": statement })));
    expect(r!.message.startsWith(`${label}`)).toBe(true);
  });

  it("does not count CONCURRENTLY in comments, strings, quoted identifiers or dollar quotes, nor REFRESH … CONCURRENTLY", async () => {
    const sql = [
      "-- CREATE INDEX CONCURRENTLY x ON t (id);",
      "/* CREATE INDEX CONCURRENTLY /* nested */ y ON t (id); */",
      "INSERT INTO notes VALUES ('CREATE INDEX CONCURRENTLY z ON t (id);');",
      'CREATE TABLE "concurrently" (id int);',
      "DO $body$ BEGIN RAISE NOTICE 'CREATE INDEX CONCURRENTLY;'; END $body$;",
      "REFRESH MATERIALIZED VIEW CONCURRENTLY mv;",
      "",
    ].join("\n");
    expect(fails(await validateMigrationFiles(await folder({ "1_a.sql": sql })))).toEqual([]);
  });

  it("fails a misspelled directive", async () => {
    const dir = await folder({ "1_a.sql": `--postgres-migrations disable-transaction\n${cic}` });
    const failed = fails(await validateMigrationFiles(dir));
    expect(failed.map((r) => r.where)).toEqual([`${join(dir, "1_a.sql")}:1`, `${join(dir, "1_a.sql")}:2`]);
    expect(failed[0]!.message).toContain("does not recognise");
  });

  it("warns about CREATE INDEX CONCURRENTLY without IF NOT EXISTS", async () => {
    const results = await validateMigrationFiles(await folder({ "1_a.sql": `${D}CREATE INDEX CONCURRENTLY t_id ON t (id)` }));
    expect(fails(results)).toEqual([]);
    expect(warns(results).map((r) => r.id)).toEqual(["migrations.transaction"]);
  });
});

describe("splitSqlStatements", () => {
  it("splits on top-level semicolons and reports the first token's line", () => {
    const sql = "-- header\nSELECT 1;\n\n  SELECT 'a;b', \"c;d\", E'it\\'s;';\n$$ ; $$;\n$fn$ x ; $fn$;\n/* only a comment */;\n";
    expect(splitSqlStatements(sql).map((s) => [s.line, s.text.trim()])).toEqual([
      [2, "-- header\nSELECT 1"],
      [4, "SELECT 'a;b', \"c;d\", E'it\\'s;'"],
      [5, "$$ ; $$"],
      [6, "$fn$ x ; $fn$"],
    ]);
  });

  it("handles doubled quotes, identifiers containing $, and unterminated input", () => {
    expect(splitSqlStatements("SELECT 'it''s;' ; SELECT a$b$c FROM t; SELECT '; ").map((s) => s.text.trim())).toEqual([
      "SELECT 'it''s;'",
      "SELECT a$b$c FROM t",
      "SELECT ';",
    ]);
  });
});

describe("migrationFileHash and listMigrationFiles", () => {
  it("matches the hash postgres-migrations computes (fileName + contents, raw bytes)", async () => {
    const bom = "\uFEFFSELECT 1;\r\n";
    const dir = await folder({ "1_init.sql": SQL, "2_two.sql": bom });
    const library = await loadMigrationFiles(dir);
    expect(library.map((m) => m.hash)).toEqual([
      "e18db593bcde2aca2a408c4d1100f6abba2195df",
      migrationFileHash("1_init.sql", SQL),
      migrationFileHash("2_two.sql", bom),
    ]);
    expect(migrationFileHash("1_init.sql", SQL)).toMatch(/^[0-9a-f]{40}$/);
  });

  it("lists loaded files sorted by id", async () => {
    const dir = await folder({ "10_j.sql": SQL, "2_b.sql": SQL, "1_a.sql": SQL, "notes.txt": "", "sub.sql/": "" });
    expect(await listMigrationFiles(dir)).toEqual([
      { id: 1, name: "a", fileName: "1_a.sql", path: join(dir, "1_a.sql") },
      { id: 2, name: "b", fileName: "2_b.sql", path: join(dir, "2_b.sql") },
      { id: 10, name: "j", fileName: "10_j.sql", path: join(dir, "10_j.sql") },
    ]);
  });

  it("throws a MigrationError for an invalid name or a missing folder", async () => {
    const dir = await folder({ "seed.sql": SQL });
    await expect(listMigrationFiles(dir)).rejects.toMatchObject({ code: "E_MIGRATION", where: join(dir, "seed.sql") });
    await expect(listMigrationFiles(join(dir, "nope"))).rejects.toMatchObject({ code: "E_MIGRATION" });
  });
});

// Writing and hashing 2,000 files takes seconds on a busy 2-core CI box; the limit only guards a hang.
describe("validateMigrationFiles at 2,000 files (linear checks find the same problems)", { timeout: 60_000 }, () => {
  /** 1..n, each `<id>_m<id>.sql`, minus `drop`, plus `extra`. */
  function many(n: number, drop: number[], extra: Record<string, string>): Record<string, string> {
    const files: Record<string, string> = {};
    for (let id = 1; id <= n; id++) if (!drop.includes(id)) files[`${id}_m${id}.sql`] = SQL;
    return { ...files, ...extra };
  }

  it("passes a clean 1..2000 folder and lists its files in id order", async () => {
    const dir = await folder(many(2000, [], {}));
    const { results, files } = await inspectMigrationFolder(dir);
    expect(results).toEqual([
      {
        id: "migrations.files",
        status: "pass",
        message: `2000 migrations (ids 1..2000) in ${dir} follow the postgres-migrations 5.3.0 rules`,
        where: dir,
      },
    ]);
    expect(files).toHaveLength(2000);
    expect(files[1999]).toEqual({
      id: 2000,
      name: "m2000",
      fileName: "2000_m2000.sql",
      path: join(dir, "2000_m2000.sql"),
      contents: readFileSync(join(dir, "2000_m2000.sql"), "utf8"),
    });
    // The same files postgres-migrations' loader order gives, each read once (the hash check reuses the text).
    expect(files.map(({ contents: _, ...f }) => f)).toEqual(await listMigrationFiles(dir));
  });

  it("reads each file once: the hash check of applied migrations reuses the text the folder check read", async () => {
    const dir = await folder(many(20, [], {}));
    const { files } = await inspectMigrationFolder(dir);
    // The hashes as postgres-migrations itself stores them for these files.
    const applied = (await loadMigrationFiles(dir)).map((m) => ({ id: m.id, name: m.name, hash: m.hash }));
    await rm(dir, { recursive: true });
    await expect(assertNoHashDrift(dir, files, applied)).resolves.toBeUndefined();
    applied[3]!.hash = "0".repeat(40);
    await expect(assertNoHashDrift(dir, files, applied)).rejects.toThrow(/applied migrations changed on disk/);
  });

  it("reports the gaps, the duplicate id and the shared name among 2,000 files", async () => {
    // Ids 7 and 1500 missing; 1999 twice; "m10" stored by both 10_m10.sql and 2001_m10.sql.
    const dir = await folder(many(2000, [7, 1500], { "1999_again.sql": SQL, "2001_m10.sql": SQL }));
    expect(fails(await validateMigrationFiles(dir)).map((r) => r.message)).toEqual([
      "duplicate id 1999: 1999_again.sql, 1999_m1999.sql",
      "missing ids 7, 1500: ids must be consecutive from 1 (postgres-migrations fails with Found a non-consecutive migration ID)",
      'stored name "m10" is used by 10_m10.sql, 2001_m10.sql; migrations.name is UNIQUE, so the second one fails after its SQL has run',
    ]);
  });
});
