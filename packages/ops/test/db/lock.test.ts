import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type HistoryEntry, listHistory, recordHistory } from "../../src/db/history.ts";
import {
  acquireLock,
  BROKEN_LOCK_ERROR,
  breakLock,
  readLock,
  releaseLock,
  renewLock,
  type LockHolder,
  type LockInfo,
} from "../../src/db/lock.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { LockError } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
let a: pg.Client;
let b: pg.Client;

const alice: LockHolder = { user: "alice", host: "laptop", runId: "20261129-120102-aaaa", gitSha: "abc1234def5678", purpose: "deploy" };
const bob: LockHolder = { user: "bob", host: "ci-runner", runId: "20261129-120500-bbbb", gitSha: "0123456789abcdef", purpose: "migrate" };
const TTL = 300_000;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await db.connect("lock-test-a");
  b = await db.connect("lock-test-b");
  await ensureOpsSchema(a);
  await ensureOpsSchema(b); // idempotent
});

afterAll(async () => {
  await db?.drop();
});

/** The history row a run writes when it takes the lock. */
const runningEntry = (environment: string, h: LockHolder): HistoryEntry => ({
  runId: h.runId,
  environment,
  target: "local",
  kind: "deploy",
  status: "running",
  actor: h.user,
  host: h.host,
  gitSha: h.gitSha,
  startedAt: new Date(),
  releases: {},
  migrationsApplied: [],
  durationsMs: {},
});

/** Polls until the lease of `environment` has expired by the database clock (no timed assertion). */
async function waitUntilExpired(client: pg.Client, environment: string): Promise<void> {
  for (;;) {
    const { rows } = await client.query("SELECT expires_at < now() AS expired FROM ops.deploy_lock WHERE environment = $1", [environment]);
    if (rows[0]?.expired === true) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("deploy lock (real Postgres)", () => {
  it("acquires a free lock and records the holder", async () => {
    const onTakeover = vi.fn();
    const token = await acquireLock(a, "acquire", alice, { ttlMs: TTL, waitMs: 0, onTakeover });
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(onTakeover).not.toHaveBeenCalled();
    const info = await readLock(b, "acquire");
    expect(info).toMatchObject({ environment: "acquire", ...alice });
    // the lease runs ttlMs from acquisition, by the database clock
    expect(info!.expiresAt.getTime() - info!.acquiredAt.getTime()).toBe(TTL);
    expect(await releaseLock(a, "acquire", token)).toBe(true);
    expect(await readLock(b, "acquire")).toBeUndefined();
  });

  it("refuses a busy lock at once with waitMs 0, naming the holder and the fixes", async () => {
    const token = await acquireLock(a, "busy", alice, { ttlMs: TTL, waitMs: 0 });
    const onWait = vi.fn();
    const err = await acquireLock(b, "busy", bob, { ttlMs: TTL, waitMs: 0, onWait }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockError);
    const e = err as LockError;
    expect(e.code).toBe("E_LOCK");
    expect(e.message).toContain('environment "busy" is locked by alice@laptop (run 20261129-120102-aaaa, deploy of abc1234, since ');
    expect(e.message).not.toContain("abc1234def");
    expect(e.where).toBe("ops.deploy_lock[busy]");
    expect(e.fix).toContain("--lock-wait");
    expect(e.fix).toContain("pnpm ops:lock break --yes");
    expect(onWait).not.toHaveBeenCalled();
    // the refused attempt changed nothing
    expect(await readLock(a, "busy")).toMatchObject({ runId: alice.runId });
    expect(await releaseLock(a, "busy", token)).toBe(true);
  });

  it("a waiting acquire gets the lock once the holder releases it, reporting the wait once", async () => {
    const first = await acquireLock(a, "wait", alice, { ttlMs: TTL, waitMs: 0 });
    const seen: LockInfo[] = [];
    const onTakeover = vi.fn();
    let released: Promise<boolean> | undefined;
    const second = await acquireLock(b, "wait", bob, {
      ttlMs: TTL,
      waitMs: 60_000,
      pollMs: 50,
      onTakeover,
      onWait: (holder) => {
        seen.push(holder);
        released = releaseLock(a, "wait", first);
      },
    });
    expect(await released).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ user: "alice", host: "laptop", runId: alice.runId });
    expect(onTakeover).not.toHaveBeenCalled(); // a released lock is not a takeover
    expect(second).not.toBe(first);
    expect(await readLock(a, "wait")).toMatchObject({ user: "bob", runId: bob.runId, purpose: "migrate" });
    expect(await releaseLock(b, "wait", second)).toBe(true);
  });

  it("onWait is called once however many polls the wait takes", async () => {
    const first = await acquireLock(a, "wait-many", alice, { ttlMs: TTL, waitMs: 0 });
    const onWait = vi.fn();
    let polls = 0;
    // release only after several refused attempts (counted by queries of the waiting client)
    const origQuery = b.query.bind(b);
    const spy = vi.spyOn(b, "query").mockImplementation(((...args: Parameters<pg.Client["query"]>) => {
      if (typeof args[0] === "string" && args[0].includes("INSERT INTO ops.deploy_lock") && ++polls === 4)
        void releaseLock(a, "wait-many", first);
      return (origQuery as (...x: unknown[]) => unknown)(...args);
    }) as never);
    try {
      const token = await acquireLock(b, "wait-many", bob, { ttlMs: TTL, waitMs: 60_000, pollMs: 20, onWait });
      expect(polls).toBeGreaterThanOrEqual(4);
      expect(onWait).toHaveBeenCalledTimes(1);
      expect(await releaseLock(b, "wait-many", token)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("takes over an expired lease and reports whose it was; the old token can neither renew nor release", async () => {
    const stale = await acquireLock(a, "expired", alice, { ttlMs: 200, waitMs: 0 });
    await waitUntilExpired(b, "expired");
    const previous: LockInfo[] = [];
    const onWait = vi.fn();
    const token = await acquireLock(b, "expired", bob, { ttlMs: TTL, waitMs: 0, onWait, onTakeover: (p) => previous.push(p) });
    expect(onWait).not.toHaveBeenCalled();
    expect(previous).toHaveLength(1);
    expect(previous[0]).toMatchObject({ environment: "expired", ...alice });
    // it had expired when it was taken over
    expect(previous[0]!.expiresAt.getTime()).toBeLessThan((await readLock(a, "expired"))!.acquiredAt.getTime());

    const renew = await renewLock(a, "expired", stale, TTL).catch((e: unknown) => e);
    expect(renew).toBeInstanceOf(LockError);
    expect((renew as LockError).message).toContain(
      'this run no longer holds the deploy lock of "expired"; it is held by bob@ci-runner (run 20261129-120500-bbbb, migrate of 0123456',
    );

    expect(await releaseLock(a, "expired", stale)).toBe(false);
    expect(await readLock(a, "expired")).toMatchObject({ user: "bob", runId: bob.runId });
    expect(await releaseLock(b, "expired", token)).toBe(true);
  });

  it("renewLock extends the lease of the holder", async () => {
    const token = await acquireLock(a, "renew", alice, { ttlMs: 1_000, waitMs: 0 });
    const before = (await readLock(a, "renew"))!;
    await renewLock(a, "renew", token, 600_000);
    const after = (await readLock(a, "renew"))!;
    expect(after.expiresAt.getTime() - after.heartbeatAt.getTime()).toBe(600_000);
    expect(after.acquiredAt.getTime()).toBe(before.acquiredAt.getTime());
    expect(after.runId).toBe(alice.runId);
    await releaseLock(a, "renew", token);
  });

  it("renewLock after the lock was broken says so", async () => {
    const token = await acquireLock(a, "broken", alice, { ttlMs: TTL, waitMs: 0 });
    await breakLock(b, "broken");
    await expect(renewLock(a, "broken", token, TTL)).rejects.toThrow(
      'this run no longer holds the deploy lock of "broken" (it was broken)',
    );
  });

  it("releaseLock with a wrong token releases nothing", async () => {
    const token = await acquireLock(a, "wrong-token", alice, { ttlMs: TTL, waitMs: 0 });
    expect(await releaseLock(b, "wrong-token", "00000000-0000-0000-0000-000000000000")).toBe(false);
    expect(await readLock(b, "wrong-token")).toMatchObject({ runId: alice.runId });
    // the right token in another environment releases nothing either
    expect(await releaseLock(b, "other-env", token)).toBe(false);
    expect(await releaseLock(a, "wrong-token", token)).toBe(true);
  });

  it("breakLock removes the lock whoever holds it and returns the holder", async () => {
    await acquireLock(a, "break", alice, { ttlMs: TTL, waitMs: 0 });
    await recordHistory(a, runningEntry("break", alice));
    const removed = await breakLock(b, "break");
    // Its run no longer says "running": it is recorded as failed, abandoned.
    expect(await listHistory(b, "break")).toMatchObject([{ runId: alice.runId, status: "failed", error: BROKEN_LOCK_ERROR }]);
    expect((await listHistory(b, "break"))[0]!.finishedAt).toBeInstanceOf(Date);
    expect(removed).toMatchObject({ environment: "break", ...alice });
    expect(removed!.acquiredAt).toBeInstanceOf(Date);
    expect(await readLock(a, "break")).toBeUndefined();
    expect(await breakLock(b, "break")).toBeUndefined();
    // free again: the next acquire is not a takeover
    const onTakeover = vi.fn();
    const t = await acquireLock(b, "break", bob, { ttlMs: TTL, waitMs: 0, onTakeover });
    expect(onTakeover).not.toHaveBeenCalled();
    await releaseLock(b, "break", t);
  });

  it("locks of different environments are independent", async () => {
    const t1 = await acquireLock(a, "env-one", alice, { ttlMs: TTL, waitMs: 0 });
    const t2 = await acquireLock(b, "env-two", bob, { ttlMs: TTL, waitMs: 0 });
    expect((await readLock(a, "env-one"))!.user).toBe("alice");
    expect((await readLock(a, "env-two"))!.user).toBe("bob");
    await releaseLock(a, "env-one", t1);
    await releaseLock(b, "env-two", t2);
  });
});
