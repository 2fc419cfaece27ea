import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/db/history.ts";
import type { FlyMachine, FlyRelease } from "../../src/fly/releases.ts";
import { decideFlyRollback, releasesToAvoid } from "../../src/fly/rollback-plan.ts";

const rel = (Version: number, Status: string, ImageRef: string): FlyRelease => ({
  ID: `r${Version}`,
  Version,
  Status,
  ImageRef,
  CreatedAt: `2026-11-${String(Version).padStart(2, "0")}T00:00:00Z`,
});
const machine = (id: string, image: string, state = "started"): FlyMachine => ({ id, state, config: { image } });
const none = new Map<string, string>();
const img = (run: string) => `registry.fly.io/web:${run}`;
const R = (n: number) => `20261120-0000${String(n).padStart(2, "0")}-abcd`;

function history(partial: Partial<HistoryEntry> & Pick<HistoryEntry, "runId" | "kind" | "status" | "releases">): HistoryEntry {
  return {
    environment: "production",
    target: "fly",
    actor: "a",
    host: "h",
    gitSha: "abc",
    startedAt: new Date(`2026-11-20T00:00:${partial.runId.slice(-2)}Z`),
    migrationsApplied: [],
    durationsMs: {},
    ...partial,
  };
}

describe("fly rollback target (C-25)", () => {
  // newest first: v43 failed (C), v42 complete (B, running, bad), v41 complete (B), v40 complete (A)
  const c25 = [rel(43, "failed", "img:C"), rel(42, "complete", "img:B"), rel(41, "complete", "img:B"), rel(40, "complete", "img:A")];
  const onB = [machine("m2", "img:B"), machine("m1", "img:B")];

  it("picks the newest complete release with another image than the running one: v40, image A", () => {
    const d = decideFlyRollback({ releases: c25, machines: onB, avoid: none });
    expect(d.target?.Version).toBe(40);
    expect(d.mixed).toBe(false);
    expect(d.from).toBe("2 machines on img:B (v42)");
  });
  it("does not rely on flyctl's order of releases or machines", () => {
    expect(decideFlyRollback({ releases: [...c25].reverse(), machines: [...onB].reverse(), avoid: none }).target?.Version).toBe(40);
  });
  it("without machine data, the image left is the newest complete release's", () => {
    expect(decideFlyRollback({ releases: c25, machines: [], avoid: none }).target?.Version).toBe(40);
  });
  it("an explicit --to vN wins, never a failed or missing release nor the image every machine runs", () => {
    expect(decideFlyRollback({ releases: c25, machines: onB, avoid: none }, "v40").target?.Version).toBe(40);
    expect(decideFlyRollback({ releases: c25, machines: onB, avoid: none }, "43").reason).toBe("v43 is failed, not complete");
    expect(decideFlyRollback({ releases: c25, machines: onB, avoid: none }, "v7").reason).toBe(
      "no release v7 among the 4 newest (flyctl lists 25)",
    );
    expect(decideFlyRollback({ releases: c25, machines: onB, avoid: none }, "v41").reason).toBe(
      "v41 runs img:B, which every machine runs now",
    );
  });
  it("no target when every complete release has the running image", () => {
    expect(
      decideFlyRollback({ releases: [rel(2, "complete", "img:B"), rel(1, "complete", "img:B")], machines: onB, avoid: none }).reason,
    ).toBe("no complete release with an image other than img:B among the 2 newest");
  });
});

describe("fly rollback after a partly failed rolling deploy", () => {
  // v5 R5; v6 R6; v7 R7 (its smoke checks failed; we rolled back); v8 = R6 again (our rollback); v9 R9 failed halfway.
  const releases = [
    rel(9, "failed", img(R(9))),
    rel(8, "complete", img(R(6))),
    rel(7, "complete", img(R(7))),
    rel(6, "complete", img(R(6))),
    rel(5, "complete", img(R(5))),
  ];
  const runs = [
    history({ runId: R(7), kind: "deploy", status: "rolled-back", releases: { web: { from: R(6), to: R(7) } } }),
    history({ runId: R(9), kind: "deploy", status: "failed", error: "fly deploy of web failed", releases: {} }),
  ];
  const avoid = releasesToAvoid(runs, "web");

  it("reads its own history: the release a failed run rolled back is avoided, a failed deploy adds nothing", () => {
    expect([...avoid]).toEqual([[R(7), `(run ${R(7)} failed and rolled it back)`]]);
  });
  it("a run whose smoke step failed is told apart by its recorded failed step, not by the words of its error", () => {
    const failed = (n: number, failedStep: string | undefined, error: string) =>
      history({ runId: R(n), kind: "deploy", status: "failed", failedStep, error, releases: { web: { from: R(6), to: R(n) } } });
    const avoided = releasesToAvoid(
      [
        failed(10, "smoke", "1 smoke check failed: GET /healthz answered 503"),
        // The smoke step failed for a reason whose text says nothing about smoke checks.
        failed(11, "smoke", "the deploy lock of production was taken over by run 20261120-000099-abcd"),
        // Near-misses: errors of other steps that mention smoke checks are not smoke failures.
        failed(12, "deploy", "fly deploy of web failed; smoke checks did not run"),
        failed(13, "finish", "could not write the report after the smoke check passed"),
        // A row written before failed_step existed: no step, so nothing is inferred from its text.
        failed(14, undefined, "1 smoke check failed"),
      ],
      "web",
    );
    expect([...avoided]).toEqual([
      [R(10), `(run ${R(10)} failed at its smoke step)`],
      [R(11), `(run ${R(11)} failed at its smoke step)`],
    ]);
  });
  it.each([
    ["1:1, new image on the lower machine id", [machine("a", img(R(9))), machine("b", img(R(6)))]],
    ["1:1, new image on the higher machine id", [machine("a", img(R(6))), machine("b", img(R(9)))]],
    ["2 on the new image, 1 on the old", [machine("a", img(R(9))), machine("b", img(R(9))), machine("c", img(R(6)))]],
  ])("%s: goes back to v8 (the image that served before), never to v7", (_name, machines) => {
    const d = decideFlyRollback({ releases, machines, avoid });
    expect(d.mixed).toBe(true);
    expect(d.leaving).toBe(img(R(9)));
    expect(d.leavingMarker).toBe(R(9));
    expect(d.target?.Version).toBe(8);
  });
  it("names the mixed state with the count per image", () => {
    const d = decideFlyRollback({ releases, machines: [machine("a", img(R(9))), machine("b", img(R(9))), machine("c", img(R(6)))], avoid });
    expect(d.from).toBe(`mixed: 2 machines on ${img(R(9))} (v9), 1 machine on ${img(R(6))} (v8)`);
  });
  it("a rollback after a rollback: from v8 (image R6), history skips v7 (smoke failed) and goes to v5", () => {
    const machines = [machine("a", img(R(6)))];
    expect(decideFlyRollback({ releases: releases.slice(1), machines, avoid: none }).target?.Version).toBe(7);
    expect(decideFlyRollback({ releases: releases.slice(1), machines, avoid }).target?.Version).toBe(5);
  });
  it("a three-way split leaves the newest image and skips avoided ones", () => {
    const machines = [machine("a", img(R(9))), machine("b", img(R(7))), machine("c", img(R(6)))];
    const d = decideFlyRollback({ releases, machines, avoid });
    expect(d.from).toBe(`mixed: 1 machine on ${img(R(6))} (v8), 1 machine on ${img(R(7))} (v7), 1 machine on ${img(R(9))} (v9)`);
    expect(d.target?.Version).toBe(8);
  });
  it("a stopped machine on an old image is shown but does not make the state mixed", () => {
    const d = decideFlyRollback({
      releases: releases.slice(1),
      machines: [machine("a", img(R(6))), machine("b", img(R(5)), "stopped")],
      avoid,
    });
    expect(d.mixed).toBe(false);
    expect(d.from).toBe(`1 machine on ${img(R(6))} (v8), 1 machine on ${img(R(5))} (v5), not started`);
    expect(d.target?.Version).toBe(5);
  });
  it("--to still reaches an avoided release", () => {
    expect(decideFlyRollback({ releases, machines: [machine("a", img(R(9))), machine("b", img(R(6)))], avoid }, "v7").target?.Version).toBe(
      7,
    );
  });
});

describe("fly rollback with releases this tool did not make", () => {
  // Made by hand (`fly deploy` from a laptop) or before the tool: no run id in the image tag.
  const releases = [
    rel(12, "complete", img(R(12))),
    rel(11, "complete", "registry.fly.io/web:deployment-01HAND2"),
    rel(10, "complete", "registry.fly.io/web:deployment-01HAND1"),
  ];
  it("picks the hand-made release and names it by version", () => {
    const d = decideFlyRollback({ releases, machines: [machine("a", img(R(12)))], avoid: none });
    expect(d.target?.Version).toBe(11);
    expect(d.leavingMarker).toBe(R(12));
  });
  it("a hand-made release we rolled back from is recorded and avoided as v<version>", () => {
    const avoid = releasesToAvoid(
      [history({ runId: R(13), kind: "rollback", status: "succeeded", releases: { web: { from: "v11", to: "v10" } } })],
      "web",
    );
    const d = decideFlyRollback({ releases, machines: [machine("a", img(R(12)))], avoid });
    expect(d.target?.Version).toBe(10);
    expect(
      decideFlyRollback({ releases: releases.slice(1), machines: [machine("a", "registry.fly.io/web:deployment-01HAND2")], avoid: none })
        .leavingMarker,
    ).toBe("v11");
  });
  it("says why there is nothing left, naming what it skipped", () => {
    const avoid = releasesToAvoid(
      [history({ runId: R(14), kind: "rollback", status: "succeeded", releases: { web: { from: "v11", to: R(12) } } })],
      "web",
    );
    const d = decideFlyRollback({ releases: releases.slice(0, 2), machines: [machine("a", img(R(12)))], avoid });
    expect(d.reason).toBe(
      `no complete release with an image other than ${img(R(12))} among the 2 newest; skipped v11 (rolled back by run ${R(14)}); name one with --to vN to go back to it anyway`,
    );
  });
});
