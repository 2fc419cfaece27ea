/**
 * Plans as values (changesets' assemble → apply): a step first builds the list of actions it will
 * take, each described as data; `--dry-run` prints that list and stops, apply runs the same
 * objects in order. Reads needed to build a plan happen while planning; every write is an action.
 */
import type { OpsContext } from "../context.ts";
import { InterruptedError } from "../errors.ts";
import type { Cmd } from "../runner/types.ts";

export type ActionKind = "cmd" | "db" | "file" | "process" | "http" | "wait" | "check";

/** What an action does, as printed by a dry run and carried by `action` events (never a secret value). */
export interface ActionDescription {
  kind: ActionKind;
  /** One line for people. */
  description: string;
  /** `cmd`/`process`: the exact argv the runner (or the supervisor) gets. */
  argv?: string[];
  /** `cmd`/`process`: names of the variables set for the child; values are never shown. */
  envKeys?: string[];
  /** `cmd`: names of the secrets written to stdin. */
  stdinKeys?: string[];
  /** `file`: the path written or deleted. */
  path?: string;
  /** `wait`/`http`: the bound, in milliseconds. */
  timeoutMs?: number;
}

/** A planned action: its description plus the function apply calls. */
export interface Action<R = unknown> extends ActionDescription {
  apply(): Promise<R>;
}

export interface Plan {
  /** The step the plan belongs to (`deploy client`). */
  step: string;
  actions: Action[];
  /** Facts the reader needs that are not actions ("schema version 3; 1 pending"). */
  notes?: string[];
}

/** An action that runs one command through the context's runner; `argv`/`envKeys` come from the very `Cmd` it runs. */
export function cmdAction<R>(
  description: string,
  cmd: Cmd,
  run: (cmd: Cmd) => Promise<R>,
  opts: { stdinKeys?: string[]; kind?: "cmd" | "check" } = {},
): Action<R> {
  return {
    kind: opts.kind ?? "cmd",
    description,
    argv: [cmd.file, ...cmd.args],
    envKeys: Object.keys(cmd.env ?? {}).sort(),
    ...(opts.stdinKeys ? { stdinKeys: opts.stdinKeys } : {}),
    apply: () => run(cmd),
  };
}

/** An action of any other kind. */
export function action<R>(
  kind: ActionKind,
  description: string,
  apply: () => Promise<R> | R,
  extra: Omit<ActionDescription, "kind" | "description"> = {},
): Action<R> {
  return { kind, description, ...extra, apply: async () => apply() };
}

/** The plan without its functions: what `--dry-run --json` prints. */
export function describeActions(actions: readonly Action[]): ActionDescription[] {
  return actions.map(({ apply: _apply, ...d }) => d);
}

/**
 * Where a plan applied in parts sits in the whole one the dry run printed: its first action's
 * number (1-based) and the whole plan's length, so the parts count `[1/10]` … `[10/10]`.
 */
export interface PlanPart {
  first: number;
  total: number;
}

/**
 * Runs the plan's actions in order, emitting `action` before and `action:end` after each; on a
 * terminal each shows as a progress line while it runs. `part` numbers them within a larger plan
 * (default: this plan alone, `[1/n]` … `[n/n]`).
 * @returns each action's result, in order.
 * @throws whatever an action throws, later actions do not run; {InterruptedError} before an action
 *   when the process was interrupted.
 */
export async function applyPlan(ctx: OpsContext, plan: Plan, part?: PlanPart): Promise<unknown[]> {
  const results: unknown[] = [];
  const first = part?.first ?? 1;
  const total = part?.total ?? plan.actions.length;
  for (const note of plan.notes ?? []) ctx.reporter.emit({ kind: "info", message: note });
  for (const [offset, a] of plan.actions.entries()) {
    // After Ctrl-C / SIGTERM nothing new starts (the action under way finishes; the boundary cleans up).
    const signal = ctx.interruptedBy();
    if (signal) throw new InterruptedError(signal);
    const { apply, ...description } = a;
    const index = first + offset - 1;
    ctx.reporter.emit({ kind: "action", step: plan.step, index: index + 1, total, action: description });
    const started = performance.now();
    // On a terminal: the action as one updating line with its elapsed time (builds, health and smoke waits, Neon operations).
    const progress = ctx.reporter.progress(`[${index + 1}/${total}] ${a.description}`);
    try {
      results.push(await apply());
    } catch (err) {
      progress.end();
      ctx.reporter.emit({
        kind: "action:end",
        step: plan.step,
        index: index + 1,
        ok: false,
        durationMs: Math.round(performance.now() - started),
      });
      throw err;
    }
    progress.end();
    ctx.reporter.emit({
      kind: "action:end",
      step: plan.step,
      index: index + 1,
      ok: true,
      durationMs: Math.round(performance.now() - started),
    });
  }
  return results;
}

/** Prints the plan (one `plan` event, its actions as data). */
export function printPlan(ctx: OpsContext, plan: Plan): void {
  ctx.reporter.emit({
    kind: "plan",
    step: plan.step,
    items: plan.actions.map((a) => a.description),
    actions: describeActions(plan.actions),
    ...(plan.notes?.length ? { notes: plan.notes } : {}),
  });
}

/**
 * `--dry-run`: print the plan and return `undefined`. Otherwise apply it.
 * @returns the action results when applied.
 */
export async function runPlan(ctx: OpsContext, plan: Plan): Promise<unknown[] | undefined> {
  if (ctx.flags.dryRun) {
    printPlan(ctx, plan);
    return undefined;
  }
  return applyPlan(ctx, plan);
}
