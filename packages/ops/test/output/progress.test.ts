// The progress line of long waits: on a (fake) terminal it updates in place with the label and the
// elapsed time; without a terminal, in CI and with --json not one byte of it is written.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { applyPlan, action } from "../../src/plan/plan.ts";
import type { OpsContext } from "../../src/context.ts";
import { CLEAR_LINE, formatElapsed } from "../../src/output/progress.ts";
import { createReporter, type ReporterOptions } from "../../src/output/reporter.ts";
import { createRedactor } from "../../src/secrets/redactor.ts";
import { Secret } from "../../src/secrets/secret.ts";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-12-04T17:00:00Z"));
});
afterEach(() => vi.useRealTimers());

function terminal(isTTY: boolean, extra: Partial<ReporterOptions> = {}) {
  let out = "";
  const stream = { isTTY, columns: 70, write: (t: string) => (out += t) };
  const redactor = createRedactor();
  const lines: string[] = [];
  const reporter = createReporter({ json: false, redactor, live: stream, write: (l) => lines.push(l), ...extra });
  return { reporter, redactor, out: () => out, lines };
}

/** Any spinner frame. */
const F = "[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]";

/** What the terminal shows: each carriage return starts the line again. */
const ERASE_LINE = new RegExp(`${String.fromCharCode(27)}\\[2K`, "g");
const screen = (raw: string) => raw.split("\n").map((l) => l.split("\r").at(-1)!.replace(ERASE_LINE, ""));

describe("progress on a terminal", () => {
  it("redraws one line with a spinner, the label and the elapsed time", () => {
    const t = terminal(true);
    const p = t.reporter.progress("waiting for gRPC health SERVING of backend");
    expect(t.out()).toBe(""); // nothing before the first tick: a short wait shows nothing
    vi.advanceTimersByTime(100);
    expect(t.out()).toBe(`${CLEAR_LINE}⠙ waiting for gRPC health SERVING of backend · 0s`);
    vi.advanceTimersByTime(2_400);
    expect(t.out().slice(t.out().lastIndexOf(CLEAR_LINE))).toMatch(
      new RegExp(`^\\r\\x1b\\[2K${F} waiting for gRPC health SERVING of backend · 2s$`),
    );
    expect(
      new Set(
        t
          .out()
          .split(CLEAR_LINE)
          .map((f) => f[0]),
      ).size,
    ).toBeGreaterThan(5); // the spinner turns
    expect(t.out()).not.toContain("\n");
    p.update("waiting for the deploy lock");
    vi.advanceTimersByTime(63_000);
    expect(screen(t.out()).at(-1)).toMatch(/^. waiting for the deploy lock · 1m05s$/);
    p.end();
    expect(t.out().endsWith(CLEAR_LINE)).toBe(true);
    const after = t.out().length;
    vi.advanceTimersByTime(1_000);
    expect(t.out().length).toBe(after); // the timer stopped
  });

  it("prints ordinary lines above it and draws it again below them", () => {
    const t = terminal(true);
    const p = t.reporter.progress("deploy demo-client (remote build)");
    vi.advanceTimersByTime(1_000);
    t.reporter.emit({ kind: "info", message: "demo-client: image pushed" });
    expect(screen(t.out())).toEqual([
      "  demo-client: image pushed",
      expect.stringMatching(new RegExp(`^${F} deploy demo-client \\(remote build\\) · 1s$`)),
    ]);
    expect(t.lines).toEqual([]); // on a terminal the lines go to the same stream as the progress line
    p.end();
    expect(screen(t.out())).toEqual(["  demo-client: image pushed", ""]);
  });

  it("shows the newest of nested waits, then the outer one again; an error ends them all", () => {
    const t = terminal(true);
    t.reporter.progress("[1/3] take the deploy lock");
    const inner = t.reporter.progress("waiting for the deploy lock held by alice");
    vi.advanceTimersByTime(100);
    expect(screen(t.out()).at(-1)).toContain("waiting for the deploy lock held by alice");
    inner.end();
    vi.advanceTimersByTime(100);
    expect(screen(t.out()).at(-1)).toContain("[1/3] take the deploy lock");
    t.reporter.emit({ kind: "error", message: "deploy: boom" });
    expect(screen(t.out()).at(-1)).toBe("");
    const after = t.out().length;
    vi.advanceTimersByTime(1_000);
    expect(t.out().length).toBe(after);
  });

  it("cuts a long label to one row and redacts it", () => {
    const t = terminal(true);
    t.redactor.add(new Secret("pl4nted-pr0gress-secret"));
    t.reporter.progress(`connect with pl4nted-pr0gress-secret ${"x".repeat(200)}`);
    vi.advanceTimersByTime(100);
    const shown = screen(t.out()).at(-1)!;
    expect(shown.length).toBeLessThanOrEqual(69);
    expect(shown).toMatch(/^⠙ connect with \[REDACTED\] x+… · 0s$/);
    expect(t.out()).not.toContain("pl4nted-pr0gress-secret");
  });
});

describe("no progress bytes without a terminal, in CI or with --json", () => {
  it.each([
    ["not a TTY", false, {}],
    ["CI set", true, { ci: true }],
    ["--json", true, { json: true }],
  ] as const)("%s: output stays line by line, exactly as without progress", (_name, isTTY, extra) => {
    const t = terminal(isTTY, extra);
    const p = t.reporter.progress("waiting for /healthz to report release r1");
    vi.advanceTimersByTime(5_000);
    t.reporter.emit({ kind: "info", message: "client: started" });
    p.end();
    expect(t.out()).toBe("");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test asserts no terminal escape reaches non-TTY output
    expect(t.lines.join("\n")).not.toMatch(/[\r\x1b⠋⠙⠹]/);
    expect(t.lines).toEqual(["json" in extra ? JSON.stringify({ kind: "info", message: "client: started" }) : "  client: started"]);
  });
});

describe("applyPlan shows each action as progress while it runs", () => {
  it("labels the line with the action's number and description, and ends it after the action", async () => {
    const t = terminal(true);
    const ctx = { reporter: t.reporter, interruptedBy: () => undefined } as unknown as OpsContext;
    let release!: () => void;
    const applying = applyPlan(ctx, {
      step: "deploy client",
      actions: [action("wait", "wait up to 30000 ms for /healthz to report release r1", () => new Promise<void>((r) => (release = r)))],
    });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(screen(t.out()).at(-1)).toMatch(new RegExp(`^${F} \\[1/1\\] wait up to 30000 ms for /healthz to report release r1 · 3s$`));
    release();
    await applying;
    expect(screen(t.out()).at(-1)).toBe("");
  });
});

describe("formatElapsed", () => {
  it("is short", () => {
    expect([0, 999, 59_999, 60_000, 65_000, 3_600_000, 3_725_000].map(formatElapsed)).toEqual([
      "0s",
      "0s",
      "59s",
      "1m00s",
      "1m05s",
      "1h00m",
      "1h02m",
    ]);
  });
});
