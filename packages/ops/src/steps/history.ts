import { defineOps } from "../cli/run-ops.ts";
import { listHistory } from "../db/history.ts";
import { UsageError } from "../errors.ts";
import { readOpsDb } from "../target-db.ts";

/** `pnpm ops:history [--limit N]`: every recorded run, newest first. */
export const historyCommand = () =>
  defineOps({
    name: "history",
    description: "list recorded deploy, migrate and rollback runs, newest first",
    usage: ["pnpm ops:history [--limit N]   newest N runs (default 20)"],
    options: { limit: { type: "string", default: "20" } },
    async run(ctx, { values }) {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit "${String(values.limit)}" is not a positive whole number`, { fix: "e.g. --limit 50" });
      const entries = await readOpsDb(ctx, "deploy history", (client) => listHistory(client, ctx.env.environment, limit), []);
      ctx.reporter.emit({
        kind: "table",
        title: `Runs of "${ctx.env.environment}"`,
        columns: ["RUN", "KIND", "STATUS", "WHO", "GIT", "RELEASES", "MIGRATIONS", "RESTORE POINT", "TIME", "ERROR"],
        rows: entries.map((e) => [
          e.runId,
          e.kind,
          e.status,
          `${e.actor}@${e.host}`,
          e.gitSha.slice(0, 7),
          Object.entries(e.releases).map(([a, r]) => `${a}:${r.to ?? "-"}`).join(" ") || "-",
          e.migrationsApplied.join(",") || "-",
          e.restorePoint ?? "-",
          e.finishedAt ? `${((e.finishedAt.getTime() - e.startedAt.getTime()) / 1000).toFixed(1)}s` : "-",
          e.error ? e.error.slice(0, 60) : "",
        ]),
      });
      ctx.reporter.emit({ kind: "result", step: "history", data: entries });
    },
  });
