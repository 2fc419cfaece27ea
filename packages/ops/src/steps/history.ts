import { defineOps } from "../cli/run-ops.ts";
import { listHistory } from "../db/history.ts";
import { UsageError } from "../errors.ts";
import { historyTable } from "../output/history-table.ts";
import { readOpsDb } from "../target-db.ts";

/** `pnpm ops:history [--limit N] [--wide]`: every recorded run, newest first; fits 100 columns unless `--wide`. */
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
      const entries = await readOpsDb(ctx, "deploy history", (client) => listHistory(client, ctx.env.environment, limit), []);
      const wide = values.wide === true;
      const title = `Runs of "${ctx.env.environment}"${wide ? "" : " (--wide: who, migrations, restore point, whole errors)"}`;
      ctx.reporter.emit({ kind: "table", title, ...historyTable(entries, { wide }) });
      ctx.reporter.emit({ kind: "result", step: "history", data: entries });
    },
  });
