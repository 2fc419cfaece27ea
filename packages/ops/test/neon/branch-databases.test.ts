import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBranchDatabases } from "../../src/neon/branch-databases.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

// Every database the restore plan names comes from Postgres: a branch is one cluster.
describe("listBranchDatabases (real Postgres)", () => {
  let db: TestDatabase;
  let client: pg.Client;
  const suffix = Math.random().toString(36).slice(2, 8);
  const made = [`template_reports_${suffix}`, `"Shop Orders ${suffix}"`, `tpl_${suffix}`];
  beforeAll(async () => {
    db = await createTestDatabase();
    client = await db.connect();
    for (const name of made) await client.query(`CREATE DATABASE ${name}`);
    // A real template: excluded whatever its name.
    await client.query(`ALTER DATABASE tpl_${suffix} IS_TEMPLATE true`);
  });
  afterAll(async () => {
    await client.query(`ALTER DATABASE tpl_${suffix} IS_TEMPLATE false`).catch(() => undefined);
    for (const name of made) await client.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    await db?.drop();
  });

  it("names every database but the templates, sorted, exactly as Postgres spells them", async () => {
    const names = await listBranchDatabases(client);
    // A name that only looks like a template, one with a space and capitals, the connected one, postgres.
    expect(names).toEqual(expect.arrayContaining([`template_reports_${suffix}`, `Shop Orders ${suffix}`, db.name, "postgres"]));
    expect(names).not.toContain("template0");
    expect(names).not.toContain("template1");
    expect(names).not.toContain(`tpl_${suffix}`);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});
