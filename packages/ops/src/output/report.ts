import type { HistoryEntry } from "../db/history.ts";
import type { StepRecord } from "../state/run-state.ts";
import { commitOfSha, isDirtySha, shortSha } from "../git-info.ts";
import { renderTable } from "./format-human.ts";

/** The deploy report of a run, as markdown (written to the run folder and $GITHUB_STEP_SUMMARY). No secret values. */
export function deployReportMarkdown(entry: HistoryEntry, steps: Record<string, StepRecord>): string {
  const rows = Object.values(steps)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    .map((s) => `| ${s.step} | ${s.status} | ${(s.durationMs / 1000).toFixed(1)}s |`);
  const apps = Object.entries(entry.releases).map(([app, r]) => `| ${app} | ${r.from ?? "—"} | ${r.to ?? "—"} |`);
  return [
    `## Deploy ${entry.runId}: ${entry.status}`,
    "",
    `Environment **${entry.environment}** (${entry.target}), by ${entry.actor}@${entry.host}, git \`${shortSha(entry.gitSha, 12)}\`.`,
    ...(isDirtySha(entry.gitSha)
      ? [
          "",
          `> **Uncommitted changes:** the deployed tree was commit \`${shortSha(commitOfSha(entry.gitSha), 12)}\` plus changes not in any commit; this release cannot be rebuilt from git.`,
        ]
      : []),
    "",
    "| app | previous release | new release |",
    "|---|---|---|",
    ...apps,
    "",
    `Migrations applied: ${entry.migrationsApplied.length ? entry.migrationsApplied.join(", ") : "none"}`,
    "",
    "| step | result | time |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** Plain-text summary table of a run's steps for the terminal. */
export function stepsTable(steps: Record<string, StepRecord>): string {
  return renderTable(
    ["STEP", "RESULT", "TIME"],
    Object.values(steps)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
      .map((s) => [s.step, s.status, `${(s.durationMs / 1000).toFixed(1)}s`]),
  );
}
