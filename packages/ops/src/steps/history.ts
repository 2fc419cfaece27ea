import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { type HistoryEntry, listHistory } from "../db/history.ts";
import { historyOf } from "../pipeline/run.ts";
import { readLock } from "../db/lock.ts";
import { unclosedRuns } from "../db/unclosed-runs.ts";
import { UsageError } from "../errors.ts";
import { historyTable } from "../output/history-table.ts";
import { readOpsDb } from "../target-db.ts";

/** `entry` with the releases and migrations its run's step files in this state folder record (when it ran from here). */
function withLocalSteps(ctx: OpsContext, entry: HistoryEntry): HistoryEntry {
  try {
    if (!ctx.runs.exists(entry.runId)) return entry;
    const done = historyOf(ctx.runs.read(entry.runId), entry.kind, ctx.runs.readSteps(entry.runId));
    return { ...entry, releases: done.releases, migrationsApplied: done.migrationsApplied };
  } catch {
    return entry; // a damaged run file: the row as recorded
  }
}

/**
 * `pnpm ops:history [--limit N] [--wide]`: every recorded run, newest first; fits 100 columns unless
 * `--wide`. A run recorded as running whose process is gone shows as abandoned (with `notEnded` in `--json`).
 */
export const historyCommand = () =>
  defineOps({
    name: "history",
    description: "list recorded deploy, migrate and rollback runs, newest first",
    usage: ["pnpm ops:history [--limit N] [--wide]   newest N runs (default 20); --wide shows every column, uncut"],
    options: { limit: { type: "string", default: "20" }, wide: { type: "boolean", default: false } },
    async run(ctx, { values }) {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit "${String(values.limit)}" is not a positive whole number`, { fix: "e.g. --limit 50" });
      const { entries, lock } = await readOpsDb(
        ctx,
        "deploy history",
        // One snapshot: a run that ends between two separate reads would look abandoned.
        async (client) => {
          await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
          try {
            return { entries: await listHistory(client, ctx.env.environment, limit), lock: await readLock(client, ctx.env.environment) };
          } finally {
            await client.query("COMMIT");
          }
        },
        { entries: [], lock: undefined },
      );
      const unclosed = unclosedRuns(entries, lock, ctx.env.host);
      // A run not ended yet shows what its steps recorded in this state folder (the next run writes it to its row).
      const shown = entries.map((e) => (unclosed.has(e.runId) ? withLocalSteps(ctx, e) : e));
      const wide = values.wide === true;
      const title = `Runs of "${ctx.env.environment}"${wide ? "" : " (--wide: who, migrations, restore point, whole errors)"}`;
      ctx.reporter.emit({ kind: "table", title, ...historyTable(shown, { wide, unclosed }) });
      ctx.reporter.emit({
        kind: "result",
        step: "history",
        data: shown.map((e) => (unclosed.has(e.runId) ? { ...e, notEnded: unclosed.get(e.runId) } : e)),
      });
    },
  });
