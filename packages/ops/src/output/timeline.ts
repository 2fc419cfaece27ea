/**
 * The timeline of a run: each step, and each phase of each app's deploy, as bars with a start
 * (ms from the run's start) and a length. Built once from the run's step records; the history row
 * stores it, so `ops:history --json` and the deploy report's Mermaid chart show the same numbers.
 */
import { phasesOf } from "../plan/phases.ts";
import type { StepRecord } from "../state/run-state.ts";

/** One bar of a run's timeline. */
export interface TimelineBar {
  /** `steps` for the pipeline's steps, `deploy <app>` for the phases of one app's deploy. */
  lane: string;
  /** The step (`deploy-client`) or the phase (`health wait`). */
  name: string;
  /** When it started (ISO, to the millisecond). */
  startedAt: string;
  /** When it started, in ms from the start of the run (its first step, or the run record if earlier). */
  startMs: number;
  durationMs: number;
  ok: boolean;
}

/** The lane of the pipeline's steps. */
export const STEPS_LANE = "steps";

/**
 * The bars of a run, from its step records: the steps (by start time) in the `steps` lane, then,
 * per deploy step that recorded `phases`, one lane of that app's phases.
 * @param runStartedAt when the run record was made (ISO string or Date). The first step (preflight)
 *   starts before it opens the run, so `startMs` counts from whichever is earlier.
 */
export function runTimeline(runStartedAt: string | Date, steps: Record<string, StepRecord>): TimelineBar[] {
  const ordered = Object.values(steps).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const origin = Math.min(new Date(runStartedAt).getTime(), ...ordered.map((s) => Date.parse(s.startedAt)));
  const from = (iso: string) => Date.parse(iso) - origin;
  const bars: TimelineBar[] = ordered.map((s) => ({
    lane: STEPS_LANE,
    name: s.step,
    startedAt: s.startedAt,
    startMs: from(s.startedAt),
    durationMs: s.durationMs,
    ok: s.status === "succeeded",
  }));
  for (const s of ordered) {
    const phases = phasesOf(s.detail);
    if (phases.length === 0) continue;
    const app = typeof s.detail.app === "string" ? s.detail.app : s.step;
    for (const p of phases) {
      bars.push({
        lane: `deploy ${app}`,
        name: p.phase,
        startedAt: p.startedAt,
        startMs: from(p.startedAt),
        durationMs: p.durationMs,
        ok: p.ok,
      });
    }
  }
  return bars;
}
