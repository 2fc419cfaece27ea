import { describe, expect, it } from "vitest";
import type { OpsEvent } from "../../src/output/events.ts";
import { formatHuman, renderTable } from "../../src/output/format-human.ts";
import { createReporter } from "../../src/output/reporter.ts";
import { createRedactor } from "../../src/secrets/redactor.ts";
import { Secret } from "../../src/secrets/secret.ts";

/** A value with characters JSON escapes, so the `--json` form differs from the raw one. */
const PLANTED = 'pl4nted"s3cr3t\\value-Zq9';

/** Every event kind, each carrying the planted value somewhere a careless step could put it. */
const events = (v: string): OpsEvent[] => [
  { kind: "step:start", step: "deploy", target: "fly", environment: "production", runId: v, dryRun: false },
  { kind: "step:end", step: "deploy", ok: false, durationMs: 1234, summary: `summary ${v}` },
  { kind: "info", message: `connected with ${v}` },
  { kind: "warn", message: "careful", fix: `set it to ${v}` },
  { kind: "check", result: { id: "secrets.present", status: "fail", message: `value ${v}`, where: `.env:${v}`, fix: `remove ${v}` } },
  { kind: "plan", step: "secrets", items: [`set KEY=${v}`] },
  {
    kind: "action",
    step: "deploy",
    index: 1,
    total: 2,
    action: { kind: "cmd", description: `stage KEY=${v}`, argv: ["flyctl", `KEY=${v}`], envKeys: ["FLY_API_TOKEN"] },
  },
  { kind: "action:end", step: `deploy ${v}`, index: 1, ok: true, durationMs: 3 },
  { kind: "cmd", command: `flyctl secrets set KEY=${v}`, envKeys: ["FLY_API_TOKEN"] },
  { kind: "cmd:end", command: `flyctl secrets set KEY=${v}`, exitCode: 1, durationMs: 10 },
  { kind: "retry", what: "connect", attempt: 1, delayMs: 1000, reason: `auth failed for ${v}` },
  { kind: "table", title: "Secrets", columns: ["KEY", "VALUE"], rows: [["KEY", v]] },
  { kind: "result", step: "deploy", data: { token: v } },
  {
    kind: "error",
    message: `deploy failed: ${v}`,
    where: "apps.client",
    fix: `rotate the token ${v} with pnpm ops:secrets rotate KEY`,
    bug: `stack with ${v}`,
  },
];

function capture(json: boolean) {
  const lines: string[] = [];
  const redactor = createRedactor();
  // verbose: commands print in text mode too, so every line a step can cause is checked
  const reporter = createReporter({ json, redactor, verbose: true, write: (l) => lines.push(l) });
  return { lines, redactor, reporter };
}

describe("createReporter", () => {
  it.each([false, true])("a value added to the redactor never reaches the output (json: %s)", (json) => {
    const { lines, redactor, reporter } = capture(json);
    redactor.add(new Secret(PLANTED)); // added after the reporter was made, as steps learn secrets late
    for (const e of events(PLANTED)) reporter.emit(e);
    const out = lines.join("\n");
    expect(out).not.toContain(PLANTED);
    expect(out).not.toContain(JSON.stringify(PLANTED).slice(1, -1));
    expect(out).not.toContain("s3cr3t");
    // every event that prints something printed the mask instead
    expect(lines.length).toBe(json ? 14 : 12); // text mode prints nothing for `result` and `action:end`
    // ...and where the value was printed, the mask stands instead (text mode's cmd:end line shows no command)
    expect(lines.filter((l) => l.includes("[REDACTED]")).length).toBe(json ? 14 : 11);
  });

  it("the error event's fix is redacted in text", () => {
    const { lines, redactor, reporter } = capture(false);
    redactor.add(PLANTED);
    reporter.emit({ kind: "error", message: "deploy failed", where: "apps.client", fix: `rotate ${PLANTED} now` });
    expect(lines).toEqual(["✖ deploy failed\n  where: apps.client\n  fix: rotate [REDACTED] now"]);
  });

  it("the error event's fix is redacted in --json, which stays valid JSON", () => {
    const { lines, redactor, reporter } = capture(true);
    redactor.add(PLANTED);
    reporter.emit({ kind: "error", message: "deploy failed", fix: `rotate ${PLANTED} now` });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ kind: "error", message: "deploy failed", fix: "rotate [REDACTED] now" });
  });

  it("masks the password of any URL even when nobody added it", () => {
    const { lines, reporter } = capture(false);
    reporter.emit({ kind: "info", message: "using postgresql://app:hunter2-unknown@db.example.com/app" });
    expect(lines).toEqual(["  using postgresql://app:[REDACTED]@db.example.com/app"]);
  });

  it("writes one JSON object per event in --json and keeps every event", () => {
    const { lines, reporter } = capture(true);
    const e: OpsEvent = { kind: "step:end", step: "smoke", ok: true, durationMs: 2500 };
    reporter.emit(e);
    reporter.emit({ kind: "result", step: "smoke", data: { ok: true } });
    expect(lines.map((l) => JSON.parse(l))).toEqual([e, { kind: "result", step: "smoke", data: { ok: true } }]);
    expect(reporter.events).toHaveLength(2);
  });

  it("text mode prints nothing for a result or a successful command end", () => {
    const { lines, reporter } = capture(false);
    reporter.emit({ kind: "result", step: "x", data: 1 });
    reporter.emit({ kind: "cmd:end", command: "go build", exitCode: 0, durationMs: 5 });
    expect(lines).toEqual([]);
    expect(reporter.events).toHaveLength(2);
  });
});

describe("formatHuman", () => {
  it.each<[OpsEvent, string]>([
    [
      { kind: "step:start", step: "deploy", target: "local", environment: "local", runId: "20261129-120000-abcd", dryRun: true },
      "▶ deploy  target=local env=local run=20261129-120000-abcd  (dry run: nothing will change)",
    ],
    [{ kind: "step:end", step: "deploy", ok: true, durationMs: 61_250, summary: "2 apps" }, "✔ deploy done in 61.3s: 2 apps"],
    [{ kind: "step:end", step: "smoke", ok: false, durationMs: 900 }, "✖ smoke failed in 0.9s"],
    [{ kind: "warn", message: "mode 0644", fix: "chmod 600 f" }, "  ! mode 0644\n    fix: chmod 600 f"],
    [
      { kind: "check", result: { id: "migrations.files", status: "pass", message: "ok", where: "migrations" } },
      `  ✔ ${"migrations.files".padEnd(24)} ok`,
    ],
    [
      { kind: "check", result: { id: "migrations.crlf", status: "fail", message: "CRLF", where: "m/1.sql:1", fix: "convert" } },
      `  ✖ ${"migrations.crlf".padEnd(24)} CRLF\n      at m/1.sql:1\n      fix: convert`,
    ],
    [
      { kind: "plan", step: "migrate", items: ["apply 1_a.sql", "apply 2_b.sql"] },
      "  plan (migrate):\n    1. apply 1_a.sql\n    2. apply 2_b.sql",
    ],
    [{ kind: "cmd:end", command: "x", exitCode: null, durationMs: 1500 }, "  (exit signal after 1.5s)"],
    [
      { kind: "retry", what: "connect", attempt: 2, delayMs: 2000, reason: "ECONNREFUSED" },
      "  … connect: attempt 2 failed (ECONNREFUSED); retrying in 2.0s",
    ],
    [{ kind: "error", message: "boom" }, "✖ boom"],
  ])("%j", (event, text) => {
    expect(formatHuman(event)).toBe(text);
  });

  it("renderTable aligns columns", () => {
    expect(
      renderTable(
        ["APP", "RELEASE"],
        [
          ["backend", "v42"],
          ["client", "v7"],
        ],
      ),
    ).toBe(["APP      RELEASE", "-------  -------", "backend  v42", "client   v7"].join("\n"));
  });
});
