import { defineOps } from "../cli/run-ops.ts";
import { breakLock, describeHolder, lockTakeoverNote, readLock } from "../db/lock.ts";
import { LockError, UsageError } from "../errors.ts";
import { isOwnerAlive } from "../pipeline/owner.ts";
import { readOpsDb, withTargetDb } from "../target-db.ts";
import { recordWhatAbandonedRunDid } from "../pipeline/run.ts";
import { action, runPlan } from "../plan/plan.ts";

const withNote = (note: string | undefined) => (note ? ` (${note})` : "");

/** `pnpm ops:lock [status]` and `pnpm ops:lock break --yes`. */
export const lockCommand = () =>
  defineOps({
    name: (pos) => `lock ${pos[0] ?? "status"}`,
    description: "show the deploy lock, or break a dead one (break needs --yes)",
    usage: [
      "pnpm ops:lock [status]      who holds it, since when, until when",
      "pnpm ops:lock break --yes   delete it (only when the holder is gone)",
    ],
    subcommands: { status: [], break: [] },
    async run(ctx, { positionals }) {
      const sub = positionals[0] ?? "status";
      if (sub === "status") {
        const lock = await readOpsDb(ctx, "deploy lock", (c) => readLock(c, ctx.env.environment), undefined);
        ctx.reporter.emit({
          kind: "info",
          message: lock ? `held by ${describeHolder(lock)}${withNote(lockTakeoverNote(lock, ctx.env.host))}` : "free",
        });
        ctx.reporter.emit({ kind: "result", step: "lock", data: lock ?? null });
        return;
      }
      if (!ctx.flags.yes && !ctx.flags.dryRun) {
        throw new UsageError("breaking the deploy lock needs --yes", {
          fix: "Make sure the holder is really gone (pnpm ops:lock status), then run `pnpm ops:lock break --yes`.",
        });
      }
      const held = await readOpsDb(ctx, "deploy lock", (c) => readLock(c, ctx.env.environment), undefined);
      // A holder known to be alive (its process runs on this host) is deploying: breaking its lock
      // would let a second run deploy beside it.
      if (held && held.host === ctx.env.host && held.owner && isOwnerAlive(held.owner)) {
        throw new LockError(
          `the deploy lock of "${ctx.env.environment}" is held by a run that is still running: ${describeHolder(held)}, process ${held.owner.pid}`,
          {
            where: `ops.deploy_lock[${ctx.env.environment}]`,
            fix: `Wait for it, or stop it (Ctrl-C in its terminal, or kill -TERM ${held.owner.pid}): it then releases the lock itself. A run whose process is gone needs no break either; the next run takes its lock over.`,
          },
        );
      }
      await runPlan(ctx, {
        step: "lock break",
        actions: [
          action(
            "db",
            `delete the deploy lock of "${ctx.env.environment}"${held ? ` held by ${describeHolder(held)}` : " (it is free)"}`,
            async () => {
              const removed = await withTargetDb(
                ctx,
                "deploy lock",
                async (c) => {
                  const holder = await breakLock(c, ctx.env.environment);
                  // Its run (if it ran from this state folder) is no longer the current one; its row gets what its steps did.
                  if (holder) {
                    const why = "its deploy lock was broken (pnpm ops:lock break)";
                    ctx.runs.markAbandoned(holder, why);
                    await recordWhatAbandonedRunDid(ctx, c, holder.runId, why);
                  }
                  return holder;
                },
                { start: false },
              );
              ctx.reporter.emit({
                kind: removed ? "warn" : "info",
                message: removed
                  ? `broke the deploy lock held by ${describeHolder(removed)}; run ${removed.runId} is recorded as failed (abandoned)`
                  : "the lock was free; nothing to break",
              });
            },
          ),
        ],
      });
    },
  });
