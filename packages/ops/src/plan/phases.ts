/**
 * The phases of one app's deploy (copy, start, health wait, switch, stop old; fly: build + deploy +
 * health), timed while apply runs them and recorded in the deploy step's detail as `phases`. The
 * run's timeline (output/timeline.ts) reads them back for the report and `ops:history --json`.
 */
import { z } from "zod";
import type { Action } from "./plan.ts";

/** One timed phase: when it started (ISO), how long it took (ms), and whether it ended well. */
export interface PhaseTiming {
  phase: string;
  startedAt: string;
  durationMs: number;
  ok: boolean;
}

const phaseTimingsSchema = z.array(z.object({ phase: z.string(), startedAt: z.string(), durationMs: z.number(), ok: z.boolean() }));

/** The `phases` of a step's detail, or `[]` when it has none (older runs, steps without phases). */
export function phasesOf(detail: Record<string, unknown>): PhaseTiming[] {
  const parsed = phaseTimingsSchema.safeParse(detail.phases);
  return parsed.success ? parsed.data : [];
}

/** Times the phases of one deploy as its actions run; `phases` is what the step records. */
export class PhaseTimer {
  readonly phases: PhaseTiming[] = [];
  private open: { entry: PhaseTiming; started: number } | undefined;

  /** `a`, timed as phase `phase` when applied (a failure is recorded with `ok: false`, then rethrown). */
  time<R>(phase: string, a: Action<R>): Action<R> {
    return {
      ...a,
      apply: async () => {
        this.start(phase);
        try {
          const result = await a.apply();
          this.close(true);
          return result;
        } catch (err) {
          this.close(false);
          throw err;
        }
      },
    };
  }

  /** `actions`, the i-th timed as `phases[i]` (actions past the names stay untimed). */
  timeEach(phases: readonly string[], actions: Action[]): Action[] {
    return actions.map((a, i) => (phases[i] === undefined ? a : this.time(phases[i], a)));
  }

  /** Inside a timed action: ends the running phase now and starts `phase` (one action, two phases: switch, then stop old). */
  next(phase: string): void {
    if (!this.open) return;
    this.close(true);
    this.start(phase);
  }

  private start(phase: string): void {
    const entry: PhaseTiming = { phase, startedAt: new Date().toISOString(), durationMs: 0, ok: true };
    this.phases.push(entry);
    this.open = { entry, started: performance.now() };
  }

  private close(ok: boolean): void {
    if (!this.open) return;
    this.open.entry.durationMs = Math.round(performance.now() - this.open.started);
    this.open.entry.ok = ok;
    this.open = undefined;
  }
}
