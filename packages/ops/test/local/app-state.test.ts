import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  readAppState,
  rollbackChoice,
  rollbackTarget,
  writeAppState,
  type LocalAppState,
  type LocalRelease,
} from "../../src/local/app-state.ts";
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

describe("rollbackChoice follows what served, not creation order", () => {
  const served = (...ids: [string, "deploy" | "rollback"][]) =>
    ids.map(([release, via], i) => ({ release, via, at: `2026-12-04T10:0${i}:00.000Z` }));
  it("deploy A, B, roll back to A, deploy C: the rollback goes to A, not to B", () => {
    const s: LocalAppState = {
      current: "C",
      releases: [rel("C", "serving"), { ...rel("B", "stopped"), rolledBack: true }, rel("A", "stopped")],
      served: served(["A", "deploy"], ["B", "deploy"], ["A", "rollback"], ["C", "deploy"]),
    };
    expect(rollbackChoice(s)).toEqual({ release: rel("A", "stopped") });
  });
  it("a rollback after a rollback does not return to the release just rolled away from", () => {
    const s: LocalAppState = {
      current: "A",
      releases: [{ ...rel("B", "stopped"), rolledBack: true }, rel("A", "serving")],
      served: served(["A", "deploy"], ["B", "deploy"], ["A", "rollback"]),
    };
    expect(rollbackChoice(s)).toEqual({
      reason: "no earlier release that can serve: B (rolled back); name one with --to to go back to it anyway",
    });
    expect(rollbackChoice(s, "B")).toEqual({ release: { ...rel("B", "stopped"), rolledBack: true } });
  });
  it("skips a release whose smoke checks failed and one that never became healthy", () => {
    const s: LocalAppState = {
      current: "D",
      releases: [rel("D", "serving"), { ...rel("C", "stopped"), failedSmoke: true }, rel("B", "failed"), rel("A", "stopped")],
      served: served(["A", "deploy"], ["B", "deploy"], ["C", "deploy"], ["D", "deploy"]),
    };
    expect("release" in rollbackChoice(s) && (rollbackChoice(s) as { release: LocalRelease }).release.id).toBe("A");
  });
  it("names a pruned release instead of choosing it", () => {
    const s: LocalAppState = { current: "B", releases: [rel("B", "serving")], served: served(["A", "deploy"], ["B", "deploy"]) };
    expect(rollbackChoice(s)).toEqual({
      reason: "no earlier release that can serve: A (pruned); name one with --to to go back to it anyway",
    });
  });
});
