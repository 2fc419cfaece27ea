/**
 * Outcome of one preflight check. `fail` stops the run; `warn` is printed and the run goes on;
 * `skip` means the check could not run because a check it needs failed (that one carries the
 * cause and the fix), so one root cause gives one failed check.
 */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** One finding of a check: what was seen, where, and how to fix it. Never holds a secret value. */
export interface CheckResult {
  /** Stable id of the check, e.g. `migrations.ids`, `turbo.env`. */
  id: string;
  status: CheckStatus;
  /** One sentence: what was checked and what was seen. */
  message: string;
  /** Where: `file:line`, `turbo.json tasks.db-migrate`, a config path. */
  where?: string;
  /** The next action that fixes it. Required for `warn` and `fail`; a `skip` has none (the check it needs has it). */
  fix?: string;
}

/** The worst status of a list of results: `fail` > `warn` > `pass` (a `skip` counts as `pass`: its cause failed elsewhere). */
export function worstStatus(results: readonly CheckResult[]): CheckStatus {
  if (results.some((r) => r.status === "fail")) return "fail";
  if (results.some((r) => r.status === "warn")) return "warn";
  return "pass";
}
