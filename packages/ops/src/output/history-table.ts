import type { HistoryEntry } from "../db/history.ts";
import { shortSha } from "../git-info.ts";

/** Width `pnpm ops:history` fits into without `--wide`: a 100-column terminal. */
export const HISTORY_WIDTH = 100;
const GAP = 2; // renderTable puts two spaces between columns

/** A row as shown: the recorded status, or `abandoned` for a run that cannot be running. */
type ShownEntry = Omit<HistoryEntry, "status"> & { status: HistoryEntry["status"] | "abandoned" };

const seconds = (e: ShownEntry) => (e.finishedAt ? `${((e.finishedAt.getTime() - e.startedAt.getTime()) / 1000).toFixed(1)}s` : "-");
const releases = (e: ShownEntry) =>
  Object.entries(e.releases)
    .map(([a, r]) => `${a}:${r.to ?? "-"}`)
    .join(" ") || "-";
const clip = (s: string, width: number) => (s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`);

/**
 * The `ops:history` table. Narrow (default): RUN, KIND, STATUS, GIT (7 hex digits, `-dirty` kept),
 * TIME and RELEASES, cut with `…` so no line is over {@link HISTORY_WIDTH} characters; a failed
 * run's error follows on its own line under RELEASES, cut the same way. `wide`: every column
 * (WHO, MIGRATIONS, RESTORE POINT and the whole error too), nothing cut.
 *
 * `unclosed` (run id → why) marks the runs still recorded as running that cannot be.
 * @returns the columns and rows for a `table` event (the human renderer aligns them).
 */
export function historyTable(
  recorded: readonly HistoryEntry[],
  opts: { wide: boolean; unclosed?: ReadonlyMap<string, string> },
): { columns: string[]; rows: string[][] } {
  // A run recorded as running that cannot be (db/unclosed-runs.ts) shows as abandoned, with why.
  const entries = recorded.map((e): ShownEntry => {
    const why = opts.unclosed?.get(e.runId);
    return why ? { ...e, status: "abandoned", error: `not ended: ${why}` } : e;
  });
  if (opts.wide) {
    return {
      columns: ["RUN", "KIND", "STATUS", "WHO", "GIT", "RELEASES", "MIGRATIONS", "RESTORE POINT", "TIME", "ERROR"],
      rows: entries.map((e) => [
        e.runId,
        e.kind,
        e.status,
        `${e.actor}@${e.host}`,
        shortSha(e.gitSha, 12),
        releases(e),
        e.migrationsApplied.join(",") || "-",
        e.restorePoint ?? "-",
        seconds(e),
        e.error ?? "",
      ]),
    };
  }
  const columns = ["RUN", "KIND", "STATUS", "GIT", "TIME", "RELEASES"];
  const fixed = entries.map((e) => [e.runId, e.kind, e.status, shortSha(e.gitSha), seconds(e)]);
  const widths = columns.slice(0, -1).map((c, i) => Math.max(c.length, ...fixed.map((r) => (r[i] ?? "").length)));
  const last = Math.max(12, HISTORY_WIDTH - widths.reduce((sum, w) => sum + w + GAP, 0));
  const rows: string[][] = [];
  entries.forEach((e, i) => {
    rows.push([...(fixed[i] ?? []), clip(releases(e), last)]);
    if (e.error) rows.push(["", "", "", "", "", clip(`↳ ${e.error.replace(/\s+/g, " ")}`, last)]);
  });
  return { columns, rows };
}
