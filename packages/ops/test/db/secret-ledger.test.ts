import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { ledgerKey } from "../../src/db/secret-ledger.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("the fingerprint ledger key", () => {
  it("is created once in the database and stays the same", async () => {
    const c = await db.connect();
    await ensureOpsSchema(c);
    const first = await ledgerKey(c);
    expect(first).toHaveLength(32);
    expect(await ledgerKey(c)).toEqual(first);
  });

  it("with OPS_LEDGER_KEY it comes from that secret and nothing about it is stored", async () => {
    const c = await db.connect();
    await ensureOpsSchema(c);
    const stored = await ledgerKey(c);
    const fromSecret = await ledgerKey(c, new Secret("a long ledger secret from CI"));
    expect(fromSecret).toHaveLength(32);
    expect(fromSecret).not.toEqual(stored);
    expect(await ledgerKey(c, new Secret("a long ledger secret from CI"))).toEqual(fromSecret);
    const { rows } = await c.query("SELECT value FROM ops.settings");
    expect(rows.map((r) => r.value)).toEqual([stored.toString("hex")]);
  });
});
