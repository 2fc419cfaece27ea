import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { escapeGanttText, ganttChart } from "../../src/output/gantt.ts";
import type { TimelineBar } from "../../src/output/timeline.ts";
import { loadMermaid, parseGantt } from "./mermaid-oracle.ts";

// Oracle: Mermaid's own parser and gantt database (test/output/mermaid-oracle.ts), not our text.
// Mermaid takes seconds to import on a loaded machine; the tests should not pay for it.
beforeAll(loadMermaid, 120_000);

const ORIGIN = Date.parse("2026-12-07T09:00:00.000Z");

const bar = (lane: string, name: string, startMs: number, durationMs: number, ok = true): TimelineBar => ({
  lane,
  name,
  startedAt: new Date(ORIGIN + startMs).toISOString(),
  startMs,
  durationMs,
  ok,
});
const bars: TimelineBar[] = [
  bar("steps", "preflight", 0, 1234),
  bar("steps", "deploy-backend", 1300, 4000),
  bar("steps", "smoke", 5400, 800, false),
  bar("deploy backend", "copy", 1310, 20),
  bar("deploy backend", "health wait", 1400, 0),
];

describe("ganttChart: what Mermaid reads from it", () => {
  it("one section per lane, each bar from its startedAt to + durationMs, failed bars marked crit", async () => {
    const chart = await parseGantt(ganttChart("Run 20261207-090000-3fa9", bars));
    expect(chart.title).toBe("Run 20261207-090000-3fa9");
    expect(chart.tasks).toEqual([
      { name: "preflight", section: "steps", startMs: ORIGIN, endMs: ORIGIN + 1234, tags: ["done"] },
      { name: "deploy-backend", section: "steps", startMs: ORIGIN + 1300, endMs: ORIGIN + 5300, tags: ["done"] },
      { name: "smoke", section: "steps", startMs: ORIGIN + 5400, endMs: ORIGIN + 6200, tags: ["crit"] },
      { name: "copy", section: "deploy backend", startMs: ORIGIN + 1310, endMs: ORIGIN + 1330, tags: ["done"] },
      { name: "health wait", section: "deploy backend", startMs: ORIGIN + 1400, endMs: ORIGIN + 1400, tags: ["done"] },
    ]);
  });

  it("escapes the characters Mermaid reserves: `:` starts a task's data, `#` a comment, `;` ends a statement", () => {
    expect(escapeGanttText("deploy: client #1; now")).toBe("deploy#58; client #35;1#59; now");
    expect(escapeGanttText("  two\n lines ")).toBe("two lines");
    expect(escapeGanttText("section b")).toBe("#115;ection b");
    expect(escapeGanttText("")).toBe("-");
  });

  it("any step, phase or lane name reaches the chart as written (whitespace collapsed), whatever characters it holds", async () => {
    const char = fc.constantFrom(..."ab1 :#;%,.-_()[]{}\"'`<>&=/\\|µé→\t\n");
    const name = fc
      .tuple(
        fc.constantFrom(
          "",
          "title ",
          "section ",
          "Section ",
          "click ",
          "gantt",
          "dateFormat ",
          "%%",
          "%",
          "2026-12-07 ",
          "accTitle: ",
          "#",
          ":",
          "after ",
        ),
        fc.string({ unit: char, maxLength: 12 }),
      )
      .map(([head, tail]) => head + tail);
    const normal = (s: string) => s.replace(/\s+/g, " ").trim() || "-";
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, name), { minLength: 1, maxLength: 4 }),
        fc.string({ unit: char, maxLength: 10 }),
        async (named, title) => {
          const input: TimelineBar[] = named.map(([lane, n], i) => bar(lane, n, i * 1000, 500));
          const chart = await parseGantt(ganttChart(title, input));
          expect(chart.title).toBe(normal(title));
          // Mermaid keeps tasks grouped by section in the order sections appear, as ganttChart writes them.
          const lanes = [...new Set(input.map((b) => b.lane))];
          const expected = lanes.flatMap((lane) =>
            input
              .filter((b) => b.lane === lane)
              .map((b) => ({
                name: normal(b.name),
                section: normal(b.lane),
                startMs: ORIGIN + b.startMs,
                endMs: ORIGIN + b.startMs + 500,
                tags: ["done"],
              })),
          );
          expect(chart.tasks).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});
