import { describe, expect, it } from "vitest";
import { chooseRollbackTarget, currentRelease, releaseIdOfImage, runningImage, type FlyRelease, type FlyStatus } from "../../src/fly/releases.ts";
import { findEmittedRelease, flyErrorLines, flyExitMeaning } from "../../src/fly/flyctl.ts";

const rel = (Version: number, Status: string, ImageRef: string): FlyRelease => ({ ID: `r${Version}`, Version, Status, ImageRef, CreatedAt: `2026-11-${String(Version - 20).padStart(2, "0")}T00:00:00Z` });
// C-25: newest first: v43 failed (C), v42 complete (B, running, bad), v41 complete (B), v40 complete (A)
const c25 = [rel(43, "failed", "img:C"), rel(42, "complete", "img:B"), rel(41, "complete", "img:B"), rel(40, "complete", "img:A")];
const runningB: FlyStatus = { Name: "api", Deployed: true, Version: 43, Machines: [{ id: "m2", state: "started", config: { image: "img:B" } }, { id: "m1", state: "started", config: { image: "img:B" } }] };

describe("rollback target (C-25)", () => {
  it("picks the newest complete release with a different image than the running one: v40, image A", () => {
    const choice = chooseRollbackTarget(c25, runningImage(runningB));
    expect("release" in choice && choice.release.Version).toBe(40);
    expect("release" in choice && choice.release.ImageRef).toBe("img:A");
  });
  it("does not rely on flyctl's order", () => {
    const choice = chooseRollbackTarget([...c25].reverse(), "img:B");
    expect("release" in choice && choice.release.Version).toBe(40);
  });
  it("without machine data, the running image is the newest complete release's", () => {
    expect(currentRelease(c25)?.Version).toBe(42);
    const choice = chooseRollbackTarget(c25, undefined);
    expect("release" in choice && choice.release.Version).toBe(40);
  });
  it("an explicit --to vN wins, but never a failed release", () => {
    const to41 = chooseRollbackTarget(c25, "img:B", "v41");
    expect("release" in to41 && to41.release.Version).toBe(41);
    expect(chooseRollbackTarget(c25, "img:B", "43")).toEqual({ reason: "v43 is failed, not complete" });
    expect(chooseRollbackTarget(c25, "img:B", "v7")).toEqual({ reason: "no release v7 among the 4 newest (flyctl lists 25)" });
  });
  it("no target when every complete release runs the same image", () => {
    expect(chooseRollbackTarget([rel(2, "complete", "img:B"), rel(1, "complete", "img:B")], "img:B")).toEqual({ reason: "no complete release with an image other than img:B among the 2 newest" });
  });
  it("the running image is the one most started machines run", () => {
    expect(runningImage({ ...runningB, Machines: [{ id: "a", state: "started", config: { image: "x" } }, { id: "b", state: "stopped", config: { image: "y" } }, { id: "c", state: "started", config: { image: "x" } }] })).toBe("x");
    expect(runningImage({ ...runningB, Machines: null })).toBeUndefined();
  });
  it("release ids come from our image labels only", () => {
    expect(releaseIdOfImage("registry.fly.io/api:20261129-120000-abcd")).toBe("20261129-120000-abcd");
    expect(releaseIdOfImage("registry.fly.io/api:deployment-01J0ABC")).toBeUndefined();
  });
});

describe("flyctl output", () => {
  it("finds the FLY_EMIT_RELEASE_JSON line anywhere in stdout, not only last", () => {
    const stdout = [
      "> [1/2] Updating 148ed1 [app]",
      '{"id":"rel_1","version":44,"image_ref":"registry.fly.io/web:abc"}',
      "Visit your newly deployed app at https://web.fly.dev/",
      "",
    ].join("\n");
    expect(findEmittedRelease(stdout)).toEqual({ id: "rel_1", version: 44, image_ref: "registry.fly.io/web:abc" });
    expect(findEmittedRelease("{not json\nplain")).toBeUndefined();
  });
  it("keeps the Error: line and what follows", () => {
    expect(flyErrorLines("progress\nError: timeout reached waiting for health checks to pass for machine 1: ...\nsuggestion\n")).toEqual([
      "Error: timeout reached waiting for health checks to pass for machine 1: ...",
      "suggestion",
    ]);
  });
  it("names the exit codes flyctl uses", () => {
    expect([1, 3, 126, 127, null].map(flyExitMeaning)).toEqual(["error", "flyctl crashed (panic)", "deadline exceeded", "interrupted", "killed by a signal"]);
  });
});
