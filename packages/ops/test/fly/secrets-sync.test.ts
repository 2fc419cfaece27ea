import { describe, expect, it } from "vitest";
import { classifyKeys, keysToPush } from "../../src/secrets/fly-sync.ts";

const row = (key: string, fingerprint: string, flyDigest: string | null) => ({
  key,
  fingerprint,
  flyDigest,
  pushedAt: new Date(0),
  runId: "r",
});

describe("which secrets to push", () => {
  it("classifies from fingerprints and Fly digests only", () => {
    const changes = classifyKeys(
      ["NEW", "SAME", "EDITED", "OUTSIDE", "UNKNOWN"],
      { NEW: "f1", SAME: "f2", EDITED: "f3-new", OUTSIDE: "f4", UNKNOWN: "f5" },
      new Map([
        ["SAME", row("SAME", "f2", "d2")],
        ["EDITED", row("EDITED", "f3-old", "d3")],
        ["OUTSIDE", row("OUTSIDE", "f4", "d4-at-push")],
      ]),
      [
        { name: "SAME", digest: "d2" },
        { name: "EDITED", digest: "d3" },
        { name: "OUTSIDE", digest: "d4-moved" },
        { name: "UNKNOWN", digest: "d5" },
        { name: "EXTRA", digest: "dx" },
      ],
    );
    expect(changes).toEqual({ NEW: "new", SAME: "unchanged", EDITED: "changed", OUTSIDE: "changed-outside", UNKNOWN: "unknown" });
    expect(keysToPush(changes)).toEqual(["NEW", "EDITED", "OUTSIDE", "UNKNOWN"]);
  });
  it("an app whose keys all match is skipped", () => {
    expect(keysToPush(classifyKeys(["A"], { A: "f" }, new Map([["A", row("A", "f", "d")]]), [{ name: "A", digest: "d" }]))).toEqual([]);
  });
});
