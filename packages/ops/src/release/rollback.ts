import type { OpsContext } from "../context.ts";
import type { Action } from "../plan/plan.ts";
import type { AppRelease, RollbackChoice } from "../target/target.ts";

/**
 * The actions that roll the given apps back to their choices, in reverse deploy order unless
 * `order` is `deploy` (restarting everything), and the changes once applied.
 */
export function rollbackActions(
  ctx: OpsContext,
  choices: RollbackChoice[],
  order: "reverse" | "deploy" = "reverse",
): { actions: Action[]; outcomes(): AppRelease[] } {
  const sequence = order === "reverse" ? [...ctx.config.deployOrder].reverse() : ctx.config.deployOrder;
  const ordered = sequence.map((app) => choices.find((c) => c.app === app)).filter((c): c is RollbackChoice => Boolean(c?.toArg));
  const parts = ordered.map((c) => ctx.target.rollbackActions(c));
  // Only the apps whose rollback ran: after a failure, those that did go back.
  return {
    actions: parts.flatMap((p) => p.actions),
    outcomes: () => parts.flatMap((p) => p.outcome() ?? []),
  };
}

/** The choices as plan notes: `app: from → to` or why it is impossible. */
export function describeChoices(choices: RollbackChoice[]): string[] {
  return choices.map((p) => `${p.app}: ${p.from} → ${p.to ?? `impossible (${p.reason})`}`);
}
