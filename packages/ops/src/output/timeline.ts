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
  /** When it started, in ms from the run's start. */
  startMs: number;
  durationMs: number;
  ok: boolean;
}

/** The lane of the pipeline's steps. */
export const STEPS_LANE = "steps";

/**
 * The bars of a run, from its step records: the steps (by start time) in the `steps` lane, then,
 * per deploy step that recorded `phases`, one lane of that app's phases.
 * @param runStartedAt the run's start (ISO string or Date): every `startMs` counts from it.
 */
export function runTimeline(runStartedAt: string | Date, steps: Record<string, StepRecord>): TimelineBar[] {
  const origin = new Date(runStartedAt).getTime();
  const from = (iso: string) => new Date(iso).getTime() - origin;
  const ordered = Object.values(steps).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const bars: TimelineBar[] = ordered.map((s) => ({
    lane: STEPS_LANE,
    name: s.step,
    startMs: from(s.startedAt),
    durationMs: s.durationMs,
    ok: s.status === "succeeded",
  }));
  for (const s of ordered) {
    const phases = phasesOf(s.detail);
    if (phases.length === 0) continue;
    const app = typeof s.detail.app === "string" ? s.detail.app : s.step;
    for (const p of phases) {
      bars.push({ lane: `deploy ${app}`, name: p.phase, startMs: from(p.startedAt), durationMs: p.durationMs, ok: p.ok });
    }
  }
  return bars;
}
