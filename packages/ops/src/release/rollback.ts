import type { OpsContext } from "../context.ts";
import { listHistory } from "../db/history.ts";
import type { Action } from "../plan/plan.ts";
import type { AppRelease, RollbackChoice } from "../target/target.ts";
import { readOpsDb } from "../target-db.ts";

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
  return { actions: parts.flatMap((p) => p.actions), outcomes: () => parts.map((p) => p.outcome()) };
}

/** Migrations applied by runs after `since` (ISO): what an app rollback does not undo. Reads only. */
export async function migrationsSince(ctx: OpsContext, since: string | undefined): Promise<string[]> {
  if (!since) return [];
  const history = await readOpsDb(ctx, "deploy history", (c) => listHistory(c, ctx.env.environment, 200), []).catch(() => []);
  // Failed runs count too: migrations commit one by one, before any later step fails.
  return history
    .filter((h) => h.startedAt > new Date(since))
    .flatMap((h) => h.migrationsApplied)
    .filter((m) => !m.startsWith("0_"));
}

/** The choices as plan notes: `app: from → to` or why it is impossible. */
export function describeChoices(choices: RollbackChoice[]): string[] {
  return choices.map((p) => `${p.app}: ${p.from} → ${p.to ?? `impossible (${p.reason})`}`);
}
