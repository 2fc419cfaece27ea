import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAppState, rollbackTarget, writeAppState, type LocalAppState, type LocalRelease } from "../../src/local/app-state.ts";
import { localPaths } from "../../src/local/paths.ts";

const rel = (id: string, status: LocalRelease["status"]): LocalRelease => ({
  id,
  status,
  createdAt: "2026-11-29T12:00:00.000Z",
  gitSha: `sha-${id}`,
  runId: `run-${id}`,
});

/** Newest first, as the state file keeps them. */
const state: LocalAppState = {
  current: "r4",
  releases: [rel("r5", "failed"), rel("r4", "serving"), rel("r3", "failed"), rel("r2", "stopped"), rel("r1", "stopped")],
};

describe("rollbackTarget", () => {
  it("picks the newest older release that once served, skipping failed ones", () => {
    expect(rollbackTarget(state)?.id).toBe("r2");
  });

  it("ignores a newer failed release above the current one", () => {
    expect(rollbackTarget({ current: "r2", releases: state.releases })?.id).toBe("r1");
  });

  it("honours `to`", () => {
    expect(rollbackTarget(state, "r1")).toEqual(rel("r1", "stopped"));
  });

  it("refuses `to` naming a failed or unknown release", () => {
    expect(rollbackTarget(state, "r3")).toBeUndefined();
    expect(rollbackTarget(state, "r5")).toBeUndefined();
    expect(rollbackTarget(state, "r9")).toBeUndefined();
  });

  it("has none when the current release is the oldest", () => {
    expect(rollbackTarget({ current: "r1", releases: state.releases })).toBeUndefined();
    expect(rollbackTarget({ current: "r1", releases: [rel("r1", "serving")] })).toBeUndefined();
  });

  it("has none when every older release failed", () => {
    expect(rollbackTarget({ current: "r2", releases: [rel("r2", "serving"), rel("r1", "failed")] })).toBeUndefined();
  });
});

describe("readAppState / writeAppState", () => {
  it("round-trips and defaults to an empty state", () => {
    const dir = mkdtempSync(join(tmpdir(), "ops-app-state-"));
    try {
      const paths = localPaths(dir, "local");
      expect(readAppState(paths, "client")).toEqual({ current: null, releases: [] });
      writeAppState(paths, "client", state);
      expect(readAppState(paths, "client")).toEqual(state);
      expect(readAppState(paths, "backend")).toEqual({ current: null, releases: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
