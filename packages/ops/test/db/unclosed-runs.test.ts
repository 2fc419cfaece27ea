import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/db/history.ts";
import type { LockInfo } from "../../src/db/lock.ts";
import { unclosedRuns } from "../../src/db/unclosed-runs.ts";
import { processIdentity } from "../../src/pipeline/owner.ts";

const HOST = "laptop";
const NOW = new Date("2026-12-07T10:00:00.000Z");
const row = (runId: string, status: HistoryEntry["status"]): HistoryEntry => ({
  runId,
  environment: "production",
  target: "local",
  kind: "deploy",
  status,
  actor: "alice",
  host: HOST,
  gitSha: "0123456789abcdef",
  startedAt: new Date("2026-12-07T09:59:00.000Z"),
  releases: {},
  migrationsApplied: [],
  durationsMs: {},
});
const lockOf = (runId: string, over: Partial<LockInfo> = {}): LockInfo => ({
  environment: "production",
  user: "alice",
  host: HOST,
  runId,
  gitSha: "0123456789abcdef",
  purpose: "deploy",
  acquiredAt: new Date("2026-12-07T09:59:00.000Z"),
  heartbeatAt: new Date("2026-12-07T09:59:30.000Z"),
  expiresAt: new Date("2026-12-07T10:04:30.000Z"),
  owner: processIdentity(process.pid)!,
  ...over,
});

describe("unclosedRuns", () => {
  it("leaves a running run whose lock holder lives, and ended runs, alone", () => {
    const entries = [row("r3", "running"), row("r2", "succeeded"), row("r1", "failed")];
    expect(unclosedRuns(entries, lockOf("r3"), HOST, NOW)).toEqual(new Map());
  });

  it("names a running run whose holder process on this host is gone", () => {
    const gone = lockOf("r3", { owner: { pid: process.pid, start: "not-this-start-time" } });
    expect(unclosedRuns([row("r3", "running")], gone, HOST, NOW)).toEqual(
      new Map([["r3", `its process ${process.pid} on ${HOST} is gone: the next run takes it over and marks run r3 failed`]]),
    );
  });

  it("names a running run whose lease expired, also from another host", () => {
    const expired = lockOf("r3", { host: "ci-runner", expiresAt: new Date("2026-12-07T09:59:59.000Z") });
    expect(unclosedRuns([row("r3", "running")], expired, HOST, NOW)).toEqual(
      new Map([["r3", "lease expired: the next run takes it over and marks run r3 failed"]]),
    );
  });

  it("names every running run that does not hold the lock (free, or another run's)", () => {
    const why = "it holds no deploy lock, so it is not running; the next run records it as failed";
    expect(unclosedRuns([row("r2", "running"), row("r1", "running")], undefined, HOST, NOW)).toEqual(
      new Map([
        ["r2", why],
        ["r1", why],
      ]),
    );
    expect(unclosedRuns([row("r3", "running"), row("r2", "running")], lockOf("r3"), HOST, NOW)).toEqual(new Map([["r2", why]]));
  });
});
