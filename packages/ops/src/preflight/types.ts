/** Outcome of one preflight check. `fail` stops the run; `warn` is printed and the run goes on. */
export type CheckStatus = "pass" | "warn" | "fail";

/** One finding of a check: what was seen, where, and how to fix it. Never holds a secret value. */
export interface CheckResult {
  /** Stable id of the check, e.g. `migrations.ids`, `turbo.env`. */
  id: string;
  status: CheckStatus;
  /** One sentence: what was checked and what was seen. */
  message: string;
  /** Where: `file:line`, `turbo.json tasks.db-migrate`, a config path. */
  where?: string;
  /** The next action that fixes it. Required for `warn` and `fail`. */
  fix?: string;
}

/** The worst status of a list of results: `fail` > `warn` > `pass`. */
export function worstStatus(results: readonly CheckResult[]): CheckStatus {
  if (results.some((r) => r.status === "fail")) return "fail";
  if (results.some((r) => r.status === "warn")) return "warn";
  return "pass";
}
