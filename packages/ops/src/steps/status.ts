import { defineOps } from "../cli/run-ops.ts";
import { describeHolder, lockTakeoverNote, readLock } from "../db/lock.ts";
import { listHistory } from "../db/history.ts";
import { unclosedRuns } from "../db/unclosed-runs.ts";
import { readOpsDb } from "../target-db.ts";

/** `pnpm ops:status`: what runs where (from the target), the deploy lock and the last run (from the database). */
export const statusCommand = () =>
  defineOps({
    name: "status",
    description: "show each app's serving release and health, the deploy lock and the last run",
    async run(ctx) {
      const apps = await ctx.target.status();
      const db = await readOpsDb(
        ctx,
        "status",
        async (client) => ({
          lock: await readLock(client, ctx.env.environment),
          last: (await listHistory(client, ctx.env.environment, 1))[0],
        }),
        { lock: undefined, last: undefined },
      ).catch((err: Error) => ({ lock: undefined, last: undefined, unreachable: err.message }));
      if ("unreachable" in db) {
        ctx.reporter.emit({ kind: "info", message: `deploy lock and history: not readable (${db.unreachable.split("\n")[0]})` });
        ctx.reporter.emit({ kind: "result", step: "status", data: { ...(apps as object), lock: null, last: null } });
        return;
      }
      const { lock, last } = db;
      const takeover = lock && lockTakeoverNote(lock, ctx.env.host);
      // A last run recorded as running that cannot be shows as ops:history shows it: abandoned, with why.
      const notEnded = last ? unclosedRuns([last], lock, ctx.env.host).get(last.runId) : undefined;
      ctx.reporter.emit({
        kind: "info",
        message: `deploy lock: ${lock ? describeHolder(lock) : "free"}${takeover ? ` (${takeover})` : ""}`,
      });
      ctx.reporter.emit({
        kind: "info",
        message: `last run: ${last ? `${last.runId} ${last.kind} ${notEnded ? "abandoned" : last.status} by ${last.actor} at ${last.startedAt.toISOString()}${last.restorePoint ? `; restore point ${last.restorePoint}` : ""}${notEnded ? ` (not ended: ${notEnded})` : ""}` : "none"}`,
      });
      ctx.reporter.emit({ kind: "result", step: "status", data: { ...(apps as object), lock: lock ?? null, last: last ?? null } });
    },
  });
