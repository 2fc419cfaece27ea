import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type LockInfo, lockTakeoverNote } from "../../src/db/lock.ts";
import { processIdentity } from "../../src/pipeline/owner.ts";

const now = new Date("2026-12-07T12:00:00Z");
const held = (over: Partial<LockInfo>): LockInfo => ({
  environment: "production",
  user: "alice",
  host: "vm-1",
  runId: "20261207-115900-ab12",
  gitSha: "abc1234",
  purpose: "deploy",
  acquiredAt: new Date("2026-12-07T11:59:00Z"),
  heartbeatAt: new Date("2026-12-07T11:59:30Z"),
  expiresAt: new Date("2026-12-07T12:04:00Z"),
  ...over,
});

/** The identity of a process that ran and has exited. */
function deadOwner() {
  const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  return { pid: Number(child.stdout.trim()), start: "1" };
}

describe("lockTakeoverNote (what ops:lock and ops:status add to a held lock)", () => {
  it("says nothing while the holder on this host runs and its lease holds", () => {
    expect(lockTakeoverNote(held({ owner: processIdentity(process.pid)! }), "vm-1", now)).toBeUndefined();
  });

  it("says the next run takes over when the holder's process on this host is gone", () => {
    const owner = deadOwner();
    expect(lockTakeoverNote(held({ owner }), "vm-1", now)).toBe(
      `its process ${owner.pid} on vm-1 is gone: the next run takes it over and marks run 20261207-115900-ab12 failed`,
    );
  });

  it("cannot judge a process on another host: only the lease decides there", () => {
    expect(lockTakeoverNote(held({ owner: deadOwner() }), "vm-2", now)).toBeUndefined();
    expect(lockTakeoverNote(held({ owner: deadOwner(), expiresAt: new Date("2026-12-07T11:59:59Z") }), "vm-2", now)).toBe(
      "lease expired: the next run takes it over and marks run 20261207-115900-ab12 failed",
    );
  });
});
