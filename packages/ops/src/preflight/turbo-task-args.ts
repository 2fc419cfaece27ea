import { PIPELINE_TASKS } from "./turbo-graph.ts";
import type { CheckResult } from "./types.ts";

/**
 * Checks what follows `--` in the `turbo run` that started this preflight (`OPS_TURBO_RUN_ARGS`,
 * handed over by `scripts/turbo.mjs`). turbo passes those arguments only to the tasks named on the
 * command line, so `pnpm turbo run production-deploy -- --dry-run` would reach the last task alone
 * while preflight, migrate and the deploys ran for real. Such a run fails here, before the lock is
 * taken or anything is built. `runArgs` undefined (turbo run without the wrapper) passes: the last
 * task still refuses a half dry run then (steps/finish.ts).
 * @returns nothing for a run without such arguments (no line in the usual output), else one
 *   `turbo.args` fail naming the arguments and the variables to use instead.
 */
export function checkTurboTaskArgs(runArgs: readonly string[] | undefined): CheckResult[] {
  const cut = runArgs?.indexOf("--") ?? -1;
  const forTasks = cut >= 0 ? runArgs!.slice(cut + 1) : [];
  const named = cut >= 0 ? runArgs!.slice(0, cut) : [];
  const preflightNamed = named.some((a) => a === PIPELINE_TASKS.preflight || a.endsWith(`#${PIPELINE_TASKS.preflight}`));
  if (forTasks.length === 0 || preflightNamed) {
    return [];
  }
  return [
    {
      id: "turbo.args",
      status: "fail",
      message: `\`-- ${forTasks.join(" ")}\` would reach only the task named on the command line (turbo passes arguments after -- to it alone): preflight, migrate and the deploys would run without them, for real`,
      where: `turbo ${runArgs!.join(" ")}`,
      fix: `Drop the arguments after --; for the whole pipeline use the variables instead: OPS_DRY_RUN=1 pnpm turbo run ${PIPELINE_TASKS.finish} (also OPS_TARGET, OPS_ENV, OPS_LOCK_WAIT).`,
    },
  ];
}
