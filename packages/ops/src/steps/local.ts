import { confirm } from "../cli/confirm.ts";
import { defineOps } from "../cli/run-ops.ts";
import { UsageError } from "../errors.ts";
import { runPlan } from "../plan/plan.ts";

/** `pnpm ops:local up|down|status`: the processes of a target that runs on this machine. */
export const localCommand = () =>
  defineOps({
    name: (pos) => `local ${pos[0] ?? "status"}`,
    description:
      "local target processes: `up` restarts the current releases, `down` stops everything (--purge deletes the local state), `status` shows them",
    usage: [
      "pnpm ops:local [status]   what runs where",
      "pnpm ops:local up         start the local Postgres and the current releases",
      "pnpm ops:local down [--purge --yes]   stop everything (--purge: delete this environment's local state; asks, or --yes)",
    ],
    subcommands: { status: [], up: [], down: [] },
    options: { purge: { type: "boolean", default: false } },
    async run(ctx, args) {
      const sub = args.positionals[0] ?? "status";
      const processes = ctx.target.processes;
      if (!processes)
        throw new UsageError(`ops:local manages the processes of a target on this machine, but OPS_TARGET is "${ctx.target.name}"`, {
          fix: "Unset OPS_TARGET.",
        });
      if (sub === "status") {
        ctx.reporter.emit({ kind: "result", step: "local status", data: await ctx.target.status() });
        return;
      }
      if (sub === "down") {
        const purge = Boolean(args.values.purge);
        const question = `This deletes the local database, generated secrets, runs and build snapshots of environment "${ctx.env.environment}".`;
        if (purge && !ctx.flags.dryRun && !(await confirm(ctx, question, ctx.env.environment))) {
          throw new UsageError(`deleting the local state of "${ctx.env.environment}" needs confirmation`, {
            fix: "Run `pnpm ops:local down --purge --dry-run` to see what goes, then `pnpm ops:local down --purge --yes`; `pnpm ops:local down` alone only stops the processes.",
          });
        }
        await runPlan(ctx, processes.downPlan(purge));
        return;
      }
      // `up`: runOps refused any other sub-command.
      const applied = await runPlan(ctx, await processes.upPlan());
      if (applied) ctx.reporter.emit({ kind: "info", message: `serving at ${processes.publicUrl()}` });
    },
  });
