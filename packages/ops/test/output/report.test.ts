import { beforeAll, describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/db/history.ts";
import { deployReportMarkdown } from "../../src/output/report.ts";
import type { TimelineBar } from "../../src/output/timeline.ts";
import { loadMermaid, parseGantt } from "./mermaid-oracle.ts";

// Mermaid takes seconds to import on a loaded machine; the tests should not pay for it.
beforeAll(loadMermaid, 120_000);

const entry = (gitSha: string, timeline: TimelineBar[] = []): HistoryEntry => ({
  runId: "20261204-101500-3fa9",
  environment: "production",
  target: "fly",
  kind: "deploy",
  status: "succeeded",
  actor: "alice",
  host: "ci",
  gitSha,
  startedAt: new Date("2026-12-04T10:15:00.000Z"),
  finishedAt: new Date("2026-12-04T10:16:00.000Z"),
  releases: {},
  migrationsApplied: [],
  durationsMs: {},
  timeline,
});
const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("deploy report: the tree", () => {
  it("names the commit of a clean tree and says nothing about changes", () => {
    const md = deployReportMarkdown(entry(SHA));
    expect(md).toContain("git `0123456789ab`.");
    expect(md).not.toContain("Uncommitted");
  });

  it("says so when the tree had uncommitted changes", () => {
    const md = deployReportMarkdown(entry(`${SHA}-dirty`));
    expect(md).toContain("git `0123456789ab-dirty`.");
    expect(md).toContain(
      "> **Uncommitted changes:** the deployed tree was commit `0123456789ab` plus changes not in any commit; this release cannot be rebuilt from git.",
    );
  });
});

describe("deploy report: times", () => {
  const at = (startMs: number) => new Date(Date.parse("2026-12-04T10:15:00.000Z") + startMs).toISOString();
  const timeline: TimelineBar[] = [
    { lane: "steps", name: "preflight", startedAt: at(200), startMs: 200, durationMs: 2100, ok: true },
    { lane: "steps", name: "deploy-client", startedAt: at(2400), startMs: 2400, durationMs: 41_000, ok: true },
    { lane: "deploy client", name: "build + deploy + health", startedAt: at(2500), startMs: 2500, durationMs: 39_500, ok: true },
    { lane: "deploy client", name: "check no public IP", startedAt: at(42_000), startMs: 42_000, durationMs: 900, ok: true },
  ];

  it("the steps table shows each step's start from the run's start and its length", () => {
    const md = deployReportMarkdown(entry(SHA, timeline));
    expect(md).toContain(
      "| step | result | start | time |\n|---|---|---|---|\n| preflight | succeeded | +0.2s | 2.1s |\n| deploy-client | succeeded | +2.4s | 41.0s |\n",
    );
  });

  it("the timeline is a Mermaid gantt block whose bars Mermaid reads as the entry's own times", async () => {
    const md = deployReportMarkdown(entry(SHA, timeline));
    const block = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1];
    expect(block).toBeDefined();
    const chart = await parseGantt(block!);
    expect(chart.tasks.map((t) => [t.section, t.name, t.startMs, t.endMs - t.startMs])).toEqual(
      timeline.map((b) => [b.lane, b.name, Date.parse(b.startedAt), b.durationMs]),
    );
  });

  it("a run recorded without a timeline has no chart", () => {
    expect(deployReportMarkdown(entry(SHA))).not.toContain("```mermaid");
  });
});
