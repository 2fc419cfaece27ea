import type { HistoryEntry } from "../db/history.ts";
import { commitOfSha, isDirtySha, shortSha } from "../git-info.ts";
import { ganttChart } from "./gantt.ts";
import { STEPS_LANE } from "./timeline.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * The deploy report of a run, as markdown (written to the run folder and $GITHUB_STEP_SUMMARY):
 * releases, migrations, the steps with their start (from the run's start) and length, and the
 * run's timeline as a Mermaid gantt chart (steps and each app's deploy phases). Every time comes
 * from `entry.timeline`, the numbers `ops:history --json` shows. No secret values.
 */
export function deployReportMarkdown(entry: HistoryEntry): string {
  const timeline = entry.timeline ?? [];
  const rows = timeline
    .filter((b) => b.lane === STEPS_LANE)
    .map((b) => `| ${b.name} | ${b.ok ? "succeeded" : "failed"} | +${seconds(b.startMs)} | ${seconds(b.durationMs)} |`);
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
    "| step | result | start | time |",
    "|---|---|---|---|",
    ...rows,
    "",
    ...(timeline.length
      ? [
          "### Timeline",
          "",
          "Steps, then each app's deploy phases; times in the reader's time zone.",
          "",
          "```mermaid",
          ganttChart(`Run ${entry.runId}`, timeline),
          "```",
          "",
        ]
      : []),
  ].join("\n");
}
