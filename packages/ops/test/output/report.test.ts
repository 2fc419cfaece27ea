import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/db/history.ts";
import { deployReportMarkdown } from "../../src/output/report.ts";

const entry = (gitSha: string): HistoryEntry => ({
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
});

describe("deploy report: the tree", () => {
  it("names the commit of a clean tree and says nothing about changes", () => {
    const md = deployReportMarkdown(entry("0123456789abcdef0123456789abcdef01234567"), {});
    expect(md).toContain("git `0123456789ab`.");
    expect(md).not.toContain("Uncommitted");
  });

  it("says so when the tree had uncommitted changes", () => {
    const md = deployReportMarkdown(entry("0123456789abcdef0123456789abcdef01234567-dirty"), {});
    expect(md).toContain("git `0123456789ab-dirty`.");
    expect(md).toContain(
      "> **Uncommitted changes:** the deployed tree was commit `0123456789ab` plus changes not in any commit; this release cannot be rebuilt from git.",
    );
  });
});
