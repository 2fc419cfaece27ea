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
      { lane: "steps", name: "preflight", startMs: 500, durationMs: 1500, ok: true },
      { lane: "steps", name: "deploy-client", startMs: 5000, durationMs: 3000, ok: true },
      { lane: "steps", name: "smoke", startMs: 9000, durationMs: 700, ok: false },
      { lane: "deploy client", name: "copy", startMs: 5100, durationMs: 40, ok: true },
      { lane: "deploy client", name: "health wait", startMs: 6000, durationMs: 1800, ok: true },
    ]);
  });

  it("a run without steps has an empty timeline", () => {
    expect(runTimeline(new Date("2026-12-07T09:00:00.000Z"), {})).toEqual([]);
  });
});
