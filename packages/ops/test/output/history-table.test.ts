import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/db/history.ts";
import { historyTable, HISTORY_WIDTH } from "../../src/output/history-table.ts";
import { renderTable } from "../../src/output/format-human.ts";

const entry = (over: Partial<HistoryEntry> = {}): HistoryEntry => ({
  runId: "20261204-101500-3fa9",
  environment: "production",
  target: "local",
  kind: "deploy",
  status: "succeeded",
  actor: "alice-with-a-long-name",
  host: "build-host.example.internal",
  gitSha: "0123456789abcdef0123456789abcdef01234567-dirty",
  startedAt: new Date("2026-12-04T10:15:00.000Z"),
  finishedAt: new Date("2026-12-04T10:16:02.500Z"),
  releases: {
    backend: { from: "20261203-090000-aaaa", to: "20261204-101500-3fa9" },
    client: { from: "20261203-090000-aaaa", to: "20261204-101500-3fa9" },
  },
  migrationsApplied: ["1_init.sql", "2_users.sql", "3_orders.sql"],
  durationsMs: {},
  restorePoint: "br-restore-20261204-101500",
  ...over,
});

describe("ops:history table", () => {
  const failed = entry({
    runId: "20261204-110000-beef",
    status: "failed",
    gitSha: "fedcba9876543210fedcba9876543210fedcba98",
    error: "smoke check client /healthz: expected 200, got 503 after 12 attempts over 60s; rolled back",
  });

  it("fits 100 columns by default, keeping the dirty mark and putting a failed run's error on its own line", () => {
    const { columns, rows } = historyTable([entry(), failed], { wide: false });
    const text = renderTable(columns, rows);
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(HISTORY_WIDTH);
    expect(columns).toEqual(["RUN", "KIND", "STATUS", "GIT", "TIME", "RELEASES"]);
    expect(rows[0]).toEqual([
      "20261204-101500-3fa9",
      "deploy",
      "succeeded",
      "0123456-dirty",
      "62.5s",
      "backend:20261204-101500-3fa9 client:…",
    ]);
    expect(rows[1]?.slice(0, 5)).toEqual(["20261204-110000-beef", "deploy", "failed", "fedcba9", "62.5s"]);
    expect(rows[2]).toEqual(["", "", "", "", "", "↳ smoke check client /healthz: expec…"]);
  });

  it("--wide shows every column and the whole error, uncut", () => {
    const { columns, rows } = historyTable([failed], { wide: true });
    expect(columns).toEqual(["RUN", "KIND", "STATUS", "WHO", "GIT", "RELEASES", "MIGRATIONS", "RESTORE POINT", "TIME", "ERROR"]);
    expect(rows).toEqual([
      [
        "20261204-110000-beef",
        "deploy",
        "failed",
        "alice-with-a-long-name@build-host.example.internal",
        "fedcba987654",
        "backend:20261204-101500-3fa9 client:20261204-101500-3fa9",
        "1_init.sql,2_users.sql,3_orders.sql",
        "br-restore-20261204-101500",
        "62.5s",
        failed.error,
      ],
    ]);
  });

  it("shows a run recorded as running that cannot be as abandoned, with why on its own line", () => {
    const killed = entry({ runId: "20261204-120000-dead", status: "running", finishedAt: undefined, releases: {} });
    const unclosed = new Map([[killed.runId, "its process 4242 on laptop is gone: the next run takes it over"]]);
    const { rows } = historyTable([killed, entry()], { wide: false, unclosed });
    expect(rows[0]?.slice(0, 5)).toEqual(["20261204-120000-dead", "deploy", "abandoned", "0123456-dirty", "-"]);
    expect(rows[1]).toEqual(["", "", "", "", "", "↳ not ended: its process 4242 on lap…"]);
    expect(rows[2]?.[2]).toBe("succeeded");
    const wide = historyTable([killed], { wide: true, unclosed });
    expect(wide.rows[0]?.[2]).toBe("abandoned");
    expect(wide.rows[0]?.at(-1)).toBe("not ended: its process 4242 on laptop is gone: the next run takes it over");
  });
});
