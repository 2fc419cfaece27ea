import { describe, expect, it } from "vitest";
import { runTimeline } from "../../src/output/timeline.ts";
import type { StepRecord } from "../../src/state/run-state.ts";

const step = (name: string, startedAt: string, durationMs: number, detail: Record<string, unknown> = {}, ok = true): StepRecord => ({
  step: name,
  status: ok ? "succeeded" : "failed",
  startedAt,
  durationMs,
  detail,
});

describe("runTimeline", () => {
  it("steps by start time, then one lane of phases per deployed app, every start counted from the run's start", () => {
    const steps = {
      smoke: step("smoke", "2026-12-07T09:00:09.000Z", 700, {}, false),
      preflight: step("preflight", "2026-12-07T09:00:00.500Z", 1500),
      "deploy-client": step("deploy-client", "2026-12-07T09:00:05.000Z", 3000, {
        app: "client",
        release: "r2",
        previous: "r1",
        phases: [
          { phase: "copy", startedAt: "2026-12-07T09:00:05.100Z", durationMs: 40, ok: true },
          { phase: "health wait", startedAt: "2026-12-07T09:00:06.000Z", durationMs: 1800, ok: true },
        ],
      }),
    };
    expect(runTimeline("2026-12-07T09:00:00.000Z", steps)).toEqual([
      { lane: "steps", name: "preflight", startedAt: "2026-12-07T09:00:00.500Z", startMs: 500, durationMs: 1500, ok: true },
      { lane: "steps", name: "deploy-client", startedAt: "2026-12-07T09:00:05.000Z", startMs: 5000, durationMs: 3000, ok: true },
      { lane: "steps", name: "smoke", startedAt: "2026-12-07T09:00:09.000Z", startMs: 9000, durationMs: 700, ok: false },
      { lane: "deploy client", name: "copy", startedAt: "2026-12-07T09:00:05.100Z", startMs: 5100, durationMs: 40, ok: true },
      { lane: "deploy client", name: "health wait", startedAt: "2026-12-07T09:00:06.000Z", startMs: 6000, durationMs: 1800, ok: true },
    ]);
  });

  it("counts from the first step when it started before the run record was made (preflight opens the run)", () => {
    const steps = {
      preflight: step("preflight", "2026-12-07T08:59:57.000Z", 7000),
      "db-migrate": step("db-migrate", "2026-12-07T09:00:05.000Z", 700),
    };
    expect(runTimeline("2026-12-07T09:00:00.000Z", steps).map((b) => [b.name, b.startMs])).toEqual([
      ["preflight", 0],
      ["db-migrate", 8000],
    ]);
  });

  it("a run without steps has an empty timeline", () => {
    expect(runTimeline(new Date("2026-12-07T09:00:00.000Z"), {})).toEqual([]);
  });
});
