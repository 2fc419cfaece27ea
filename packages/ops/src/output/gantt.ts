/**
 * A run's timeline as a Mermaid `gantt` chart, which GitHub renders in markdown (the deploy report,
 * `$GITHUB_STEP_SUMMARY`). Syntax from Mermaid's gantt documentation: `dateFormat x` takes times
 * as Unix milliseconds; a task line is `<name> :<tags>, <start>, <end>`; `#58;`-style entity codes
 * stand for characters the grammar reserves. test/output/gantt.test.ts checks the text with
 * Mermaid's own parser.
 */
import type { TimelineBar } from "./timeline.ts";

/** Words a gantt line may not start with (they would be read as a keyword, a comment or a date). */
const KEYWORD_START =
  /^(?:acc|href|call|click|gantt|dateformat|inclusiveenddates|topaxis|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|title|section|\d{4}-\d\d-\d\d)/i;

const entity = (c: string) => `#${c.codePointAt(0)};`;

/**
 * A name as Mermaid gantt text: whitespace collapsed to single spaces; as entity codes `#`, `:`,
 * `;` and `%` (a comment, the start of the task's data, a statement end, a comment again), `<`,
 * `>` and `&` (which Mermaid's HTML sanitizer would eat), and a first character that would start a
 * keyword. Mermaid turns the codes back into the characters when it draws the chart.
 */
export function escapeGanttText(name: string): string {
  const text = name.replace(/\s+/g, " ").trim() || "-";
  const escaped = text.replace(/[#:;%<>&]/g, entity);
  return KEYWORD_START.test(escaped) ? `${entity(escaped[0]!)}${escaped.slice(1)}` : escaped;
}

/**
 * The gantt chart of `bars`, one section per lane (in the order lanes first appear); a bar spans
 * its `startedAt` (as Unix ms) to that plus `durationMs`.
 * @returns the chart text, without the surrounding markdown fence.
 */
export function ganttChart(title: string, bars: readonly TimelineBar[]): string {
  const lanes = [...new Set(bars.map((b) => b.lane))];
  const lines = ["gantt", `  title ${escapeGanttText(title)}`, "  dateFormat x", "  axisFormat %H:%M:%S", "  todayMarker off"];
  for (const lane of lanes) {
    lines.push(`  section ${escapeGanttText(lane)}`);
    for (const b of bars.filter((x) => x.lane === lane)) {
      const start = Date.parse(b.startedAt);
      lines.push(`  ${escapeGanttText(b.name)} :${b.ok ? "done" : "crit"}, ${start}, ${start + b.durationMs}`);
    }
  }
  return lines.join("\n");
}
