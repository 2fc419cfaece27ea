import { describe, expect, it } from "vitest";
import { releaseIdOfImage } from "../../src/fly/releases.ts";
import { findEmittedRelease, flyErrorLines, flyExitMeaning } from "../../src/fly/flyctl.ts";

describe("release ids", () => {
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
    expect([1, 3, 126, 127, null].map(flyExitMeaning)).toEqual([
      "error",
      "flyctl crashed (panic)",
      "deadline exceeded",
      "interrupted",
      "killed by a signal",
    ]);
  });
});
