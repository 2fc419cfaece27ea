import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpsContext } from "../../src/context.ts";
import { acquireLock, readLock } from "../../src/db/lock.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { keepLease } from "../../src/pipeline/run.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";
import { testContext } from "../setup/context.ts";

const _repoRoot = resolve(import.meta.dirname, "../../../..");
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function context(ttlMs: number): Promise<OpsContext> {
  const { ctx } = await testContext({
    env: { DATABASE_URL: db.url },
    flags: { pipeline: true },
    config: (written) => ({ ...written, lock: { ttlMs } }),
  });
  return ctx;
}

describe("the lease is kept while a step works", () => {
  it("renews before the lease runs out, and stops renewing when told", async () => {
    const ctx = await context(1_500);
    const client = await db.connect();
    await ensureOpsSchema(client);
    const token = await acquireLock(
      client,
      "lease-env",
      { user: "u", host: "h", runId: "r", gitSha: "s", purpose: "deploy" },
      { ttlMs: 1_500, waitMs: 0 },
    );
    const first = (await readLock(client, "lease-env"))!.expiresAt;
    const stop = keepLease(ctx, "lease-env", token);
    // Wait (by polling the database, not by timing) until the lease has been extended twice.
    let renewed = first;
    let extensions = 0;
    while (extensions < 2) {
      await new Promise((r) => setTimeout(r, 100));
      const now = (await readLock(client, "lease-env"))!.expiresAt;
      if (now > renewed) {
        renewed = now;
        extensions++;
      }
    }
    await stop();
    const held = await readLock(client, "lease-env");
    expect(held?.runId).toBe("r");
    expect(held!.expiresAt.getTime()).toBeGreaterThan(first.getTime());
    // After stop(), nothing extends it any more: it expires by the database clock.
    for (;;) {
      const { rows } = await client.query(
        "SELECT expires_at < now() AS expired, expires_at FROM ops.deploy_lock WHERE environment = 'lease-env'",
      );
      if (rows[0].expired) {
        expect(new Date(rows[0].expires_at).getTime()).toBe(held!.expiresAt.getTime());
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);
});
