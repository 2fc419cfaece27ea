import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { driftFindingsToChecks, explainHashDrift } from "../../src/migrations/hash-drift.ts";

const SQL = "CREATE TABLE t (id int);\n";
const sha1 = (s: string) => createHash("sha1").update(s, "utf8").digest("hex");
/** The row postgres-migrations stored when `1_init.sql` was applied with LF bytes (C-10). */
const APPLIED = { id: 1, name: "init", hash: sha1(`1_init.sql${SQL}`) };
const file = (fileName: string, contents: string, id = 1, name = "init") => ({ id, name, fileName, contents });

describe("explainHashDrift: C-10", () => {
  it("finds nothing when the file is unchanged", () => {
    expect(explainHashDrift([APPLIED], [file("1_init.sql", SQL)])).toEqual([]);
  });

  it("explains a CRLF checkout", () => {
    const actual = sha1("1_init.sql" + "CREATE TABLE t (id int);\r\n");
    expect(explainHashDrift([APPLIED], [file("1_init.sql", "CREATE TABLE t (id int);\r\n")])).toEqual([
      {
        id: 1,
        file: "1_init.sql",
        cause: "crlf",
        causes: ["crlf"],
        expectedHash: APPLIED.hash,
        actualHash: actual,
        message: `1_init.sql (migration 1) no longer matches its applied hash (expected ${APPLIED.hash}, actual ${actual}): it now has CRLF line endings; the SQL is the same`,
        fix: `restore the original bytes: convert 1_init.sql to LF (sed -i 's/\\r$//' 1_init.sql) and add "*.sql text eol=lf" to .gitattributes`,
      },
    ]);
  });

  it("explains an added BOM", () => {
    const [f] = explainHashDrift([APPLIED], [file("1_init.sql", `\uFEFF${SQL}`)]);
    expect(f).toMatchObject({ cause: "bom", causes: ["bom"], actualHash: sha1(`1_init.sql\uFEFF${SQL}`) });
    expect(f!.message).toContain("it now starts with a UTF-8 BOM");
    expect(f!.fix).toContain("restore the original bytes: remove the BOM");
  });

  it("explains a rename to 0001_init.sql", () => {
    const [f] = explainHashDrift([APPLIED], [file("0001_init.sql", SQL)]);
    expect(f).toMatchObject({
      id: 1,
      file: "0001_init.sql",
      cause: "rename",
      causes: ["rename"],
      originalFileName: "1_init.sql",
      expectedHash: APPLIED.hash,
    });
    expect(f!.message).toBe(
      `0001_init.sql (migration 1) no longer matches its applied hash (expected ${APPLIED.hash}, actual ${sha1(`0001_init.sql${SQL}`)}): it was renamed from 1_init.sql; the SQL is the same`,
    );
    expect(f!.fix).toBe("rename back to 1_init.sql (git mv 0001_init.sql 1_init.sql)");
  });

  it("says 'edited' for a real change, with both hashes", () => {
    const edited = "CREATE TABLE t (id bigint);\n";
    const [f] = explainHashDrift([APPLIED], [file("1_init.sql", edited)]);
    expect(f).toMatchObject({ cause: "edited", expectedHash: APPLIED.hash, actualHash: sha1(`1_init.sql${edited}`) });
    expect(f!.message).toContain(`expected ${APPLIED.hash}, actual ${sha1(`1_init.sql${edited}`)}`);
    expect(f!.fix).toContain("never edit an applied migration; add a new one");
  });
});

describe("explainHashDrift: neighbours", () => {
  it("finds a rename and CRLF together", () => {
    const [f] = explainHashDrift([APPLIED], [file("0001_init.sql", "CREATE TABLE t (id int);\r\n")]);
    expect(f).toMatchObject({ cause: "rename", causes: ["rename", "crlf"], originalFileName: "1_init.sql" });
    expect(f!.fix).toBe(
      `rename back to 1_init.sql (git mv 0001_init.sql 1_init.sql); then restore the original bytes: convert 1_init.sql to LF (sed -i 's/\\r$//' 1_init.sql) and add "*.sql text eol=lf" to .gitattributes`,
    );
  });

  it("finds BOM and CRLF together", () => {
    const [f] = explainHashDrift([APPLIED], [file("1_init.sql", "\uFEFFCREATE TABLE t (id int);\r\n")]);
    expect(f).toMatchObject({ cause: "bom", causes: ["bom", "crlf"] });
  });

  it("finds renames from padded ids and other separators (reverse and sideways)", () => {
    const padded = { id: 3, name: "users", hash: sha1(`0003_users.sql${SQL}`) };
    expect(explainHashDrift([padded], [file("3_users.sql", SQL, 3, "users")])[0]).toMatchObject({
      cause: "rename",
      originalFileName: "0003_users.sql",
    });
    const dashed = { id: 2, name: "b", hash: sha1(`2-b.sql${SQL}`) };
    expect(explainHashDrift([dashed], [file("2_b.sql", SQL, 2, "b")])[0]).toMatchObject({ cause: "rename", originalFileName: "2-b.sql" });
    const upper = { id: 4, name: "x", hash: sha1(`4_x.SQL${SQL}`) };
    expect(explainHashDrift([upper], [file("4_x.sql", SQL, 4, "x")])[0]).toMatchObject({ cause: "rename", originalFileName: "4_x.SQL" });
  });

  it("finds a rename of the name part (stored name derivable from the row)", () => {
    const [f] = explainHashDrift([APPLIED], [file("1_create-t.sql", SQL, 1, "create-t")]);
    expect(f).toMatchObject({ cause: "rename", originalFileName: "1_init.sql" });
  });

  it("finds a name-only file (stored name is the whole file name)", () => {
    const row = { id: 2, name: "2.sql", hash: sha1(`2.sql${SQL}`) };
    expect(explainHashDrift([row], [file("02.sql", SQL, 2, "02.sql")])[0]).toMatchObject({ cause: "rename", originalFileName: "2.sql" });
  });

  it("says renamed and edited when the stored name differs and nothing matches", () => {
    const [f] = explainHashDrift([APPLIED], [file("1_setup.sql", "SELECT 1;\n", 1, "setup")]);
    expect(f!.cause).toBe("edited");
    expect(f!.message).toContain('it was also renamed (applied as "init", now "setup")');
  });

  it("recognises a file applied with CRLF that was later normalised to LF, and suggests re-recording the hash", () => {
    const row = { id: 1, name: "init", hash: sha1("1_init.sql" + "CREATE TABLE t (id int);\r\n") };
    const [f] = explainHashDrift([row], [file("1_init.sql", SQL)]);
    expect(f).toMatchObject({ cause: "crlf" });
    expect(f!.message).toContain("it was applied with CRLF line endings and now has LF");
    expect(f!.fix).toBe(
      `the SQL is unchanged; record the new bytes instead of restoring CRLF/BOM: UPDATE migrations SET hash = '${sha1(`1_init.sql${SQL}`)}' WHERE id = 1 AND hash = '${row.hash}'`,
    );
  });

  it("reports an applied row with no file, and skips the library's own id 0", () => {
    const rows = [
      { id: 0, name: "create-migrations-table", hash: "e18db593bcde2aca2a408c4d1100f6abba2195df" },
      APPLIED,
      { id: 2, name: "users", hash: "a".repeat(40) },
    ];
    const findings = explainHashDrift(rows, [file("1_init.sql", SQL)]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      id: 2,
      file: "2_users.sql",
      cause: "missing-file",
      actualHash: undefined,
      expectedHash: "a".repeat(40),
    });
    expect(findings[0]!.message).toBe(
      `migration 2 ("users") is recorded as applied (hash ${"a".repeat(40)}) but no file with id 2 is in the migrations folder`,
    );
  });

  it("ignores files that are not applied yet", () => {
    expect(explainHashDrift([APPLIED], [file("1_init.sql", SQL), file("2_new.sql", "SELECT 1;\n", 2, "new")])).toEqual([]);
  });

  it("turns findings into failing checks", () => {
    const checks = driftFindingsToChecks(explainHashDrift([APPLIED], [file("0001_init.sql", SQL)]), "migrations/");
    expect(checks).toEqual([
      {
        id: "migrations.hash",
        status: "fail",
        message: expect.stringContaining("renamed from 1_init.sql"),
        where: "migrations/0001_init.sql",
        fix: "rename back to 1_init.sql (git mv 0001_init.sql 1_init.sql)",
      },
    ]);
  });
});
