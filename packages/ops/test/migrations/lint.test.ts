import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lintMigrations } from "../../src/migrations/lint.ts";
import { createZxRunner } from "../../src/runner/zx.ts";

const repo = mkdtempSync(join(tmpdir(), "squawk-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
const run = createZxRunner(process.env);
const opts = { pgVersion: "17", exclude: [] as string[], fail: ["ban-drop-column"] };

function folder(name: string, files: Record<string, string>) {
  const dir = join(repo, name);
  mkdirSync(dir);
  for (const [f, sql] of Object.entries(files)) writeFileSync(join(dir, f), sql);
  return dir;
}

describe("squawk lint of migrations", () => {
  it("a clean folder passes (timeouts are set by the runner, so those rules are skipped)", async () => {
    const dir = folder("clean", { "1_a.sql": "CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY, name text NOT NULL);\n" });
    expect(await lintMigrations(run, dir, repo, opts)).toEqual([
      { id: "migrations.lint", status: "pass", message: "squawk found nothing in 1 migration files" },
    ]);
  });

  it("SQL that does not parse fails, and the fix is to fix the SQL, not to exclude the rule", async () => {
    const dir = folder("broken", { "1_a.sql": "INSERT INTO t (a VALUES (1);\n" });
    const results = await lintMigrations(run, dir, repo, opts);
    // squawk's parser reports each place it lost track: every one a failure with the same fix.
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect([r.status, r.where, r.message.split(":")[0]]).toEqual(["fail", "broken/1_a.sql:1", "syntax-error"]);
      expect(r.fix).toBe(
        "Fix the SQL at broken/1_a.sql:1: Postgres would reject it too (check it with psql, or against a scratch database).",
      );
    }
  });

  it("a blocking index build warns with file:line and squawk's fix; a dropped column fails", async () => {
    const dir = folder("risky", {
      "1_a.sql": "CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY, name text NOT NULL);\n",
      "2_b.sql": "-- index\nCREATE INDEX IF NOT EXISTS t_name ON t (name);\n",
      "3_c.sql": "ALTER TABLE t DROP COLUMN IF EXISTS name;\n",
    });
    const results = await lintMigrations(run, dir, repo, opts);
    expect(results.map((r) => [r.status, r.where, r.message.split(":")[0]])).toEqual([
      ["warn", "risky/2_b.sql:2", "require-concurrent-index-creation"],
      ["fail", "risky/3_c.sql:1", "ban-drop-column"],
    ]);
    expect(results[0]!.fix).toMatch(/CONCURRENTLY/i);
  });

  it("excluded rules are not reported", async () => {
    const dir = folder("excluded", { "1_a.sql": "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY);\n" });
    expect((await lintMigrations(run, dir, repo, opts)).map((r) => r.message.split(":")[0])).toEqual(["prefer-bigint-over-int"]);
    expect((await lintMigrations(run, dir, repo, { ...opts, exclude: ["prefer-bigint-over-int"] }))[0]!.status).toBe("pass");
  });
});
