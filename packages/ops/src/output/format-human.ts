import type { CheckStatus } from "../preflight/types.ts";
import type { Formatters, OpsEvent } from "./events.ts";
import { displayCommand } from "../runner/types.ts";

const mark: Record<CheckStatus, string> = { pass: "✔", warn: "!", fail: "✖", skip: "-" };

/** Renders a plain text table with aligned columns. */
export function renderTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Line-oriented human output that reads well in CI logs and under turbo's stream UI. */
export const humanFormatters: Formatters = {
  "step:start": (e) =>
    `▶ ${e.step}  target=${e.target} env=${e.environment}${e.runId ? ` run=${e.runId}` : ""}${e.dryRun ? "  (dry run: nothing will change)" : ""}`,
  "step:end": (e) =>
    `${e.ok ? "✔" : "✖"} ${e.step} ${e.ok ? "done" : "failed"} in ${formatSeconds(e.durationMs)}${e.summary ? `: ${e.summary}` : ""}`,
  info: (e) => `  ${e.message}`,
  warn: (e) => `  ! ${e.message}${e.fix ? `\n    fix: ${e.fix}` : ""}`,
  check: ({ result: r }) =>
    `  ${mark[r.status]} ${r.id.padEnd(24)} ${r.message}${r.where && r.status !== "pass" && r.status !== "skip" ? `\n      at ${r.where}` : ""}${r.status !== "pass" && r.fix ? `\n      fix: ${r.fix}` : ""}`,
  plan: (e) =>
    [
      `  plan (${e.step}):`,
      ...(e.notes ?? []).map((n) => `    ${n}`),
      ...(e.actions
        ? e.actions.map(
            (a, n) =>
              `    ${n + 1}. ${a.description}${a.argv && a.kind !== "process" ? `\n         $ ${displayCommand({ file: a.argv[0]!, args: a.argv.slice(1) })}` : ""}`,
          )
        : e.items.map((i, n) => `    ${n + 1}. ${i}`)),
      ...(e.actions?.length === 0 || e.items.length === 0 ? ["    (nothing to do)"] : []),
    ].join("\n"),
  action: (e) => `  [${e.index}/${e.total}] ${e.action.description}`,
  "action:end": () => undefined,
  // Commands show in --json and with OPS_VERBOSE=1 (see createReporter); a failure is reported by its step.
  cmd: (e) => `  $ ${e.command}`,
  "cmd:end": (e) => (e.exitCode === 0 ? undefined : `  (exit ${e.exitCode ?? "signal"} after ${formatSeconds(e.durationMs)})`),
  retry: (e) => `  … ${e.what}: attempt ${e.attempt} failed (${e.reason}); retrying in ${formatSeconds(e.delayMs)}`,
  // A log line as the process wrote it (redacted like every line), so it can be piped to grep or less.
  log: (e) => e.line,
  table: (e) => `\n${e.title}\n${renderTable(e.columns, e.rows)}\n`,
  result: () => undefined,
  error: (e) =>
    [`✖ ${e.message}`, e.where ? `  where: ${e.where}` : "", e.fix ? `  fix: ${e.fix}` : "", e.bug ?? ""].filter(Boolean).join("\n"),
};

export function formatHuman(event: OpsEvent): string | undefined {
  const f = humanFormatters[event.kind] as (e: OpsEvent) => string | undefined;
  return f(event);
}
