/**
 * Log lines as text, the same on every target: when a line was written (from the timestamp it
 * starts with), and the selection `pnpm ops:logs` makes (`--since`, `--grep`, `-n`). Pure: no
 * files, no processes.
 */

/** What `pnpm ops:logs` asks for, on any target. */
export interface LogSelection {
  /** `-n`: at most this many lines, the newest. */
  lines: number;
  /** `--since`: only lines written at or after this time (epoch ms). */
  sinceEpochMs?: number;
  /** `--grep`: only lines this matches. */
  grep?: RegExp;
}

// 2026-12-04T17:15:00.123Z, 2026-12-04 17:15:00.123 UTC, time=2026-12-04T17:15:00.1+01:00, [router 2026-…]
const STAMP = /(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z| ?UTC| ?GMT| ?[+-]\d{2}:?\d{2})?/;
/** How far into a line its timestamp may start (`[supervisor `, `time=`, a Fly region prefix). */
const STAMP_WITHIN = 40;

/**
 * When `line` was written, from a timestamp near its start (ISO 8601, Postgres' `%m`, slog's
 * `time=`, the supervisor's and router's `[name <ISO>]`); undefined when it has none. A stamp
 * without a zone is read as local time.
 */
export function logLineTime(line: string): number | undefined {
  const m = STAMP.exec(line.slice(0, STAMP_WITHIN + 40));
  if (!m || m.index > STAMP_WITHIN) return undefined;
  const zone = (m[3] ?? "").trim();
  const offset =
    zone === ""
      ? ""
      : zone === "Z" || zone === "UTC" || zone === "GMT"
        ? "Z"
        : zone.includes(":")
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = Date.parse(`${m[1]}T${m[2]}${offset}`);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Applies `--since` and `--grep`, then keeps the last `lines` lines. A line without its own
 * timestamp (a stack trace, an app that prints none) belongs to the stamped line before it; lines
 * before the first stamp are dropped by `--since`, since their time is unknown. When no line has a
 * timestamp at all, `--since` cannot apply: the lines are selected without it and `undated` is set
 * (the caller says so).
 * @returns the selected lines, oldest first.
 */
export function selectLogLines(all: readonly string[], sel: LogSelection): { lines: string[]; undated: boolean } {
  let kept: string[] = [];
  let sawStamp = false;
  let current: number | undefined;
  for (const line of all) {
    if (sel.sinceEpochMs !== undefined) {
      const t = logLineTime(line);
      if (t !== undefined) {
        sawStamp = true;
        current = t;
      }
      if (current === undefined || current < sel.sinceEpochMs) continue;
    }
    if (sel.grep && !sel.grep.test(line)) continue;
    kept.push(line);
  }
  if (sel.sinceEpochMs !== undefined && !sawStamp && all.length > 0) {
    const { sinceEpochMs: _since, ...rest } = sel;
    return { lines: selectLogLines(all, rest).lines, undated: true };
  }
  if (kept.length > sel.lines) kept = kept.slice(kept.length - sel.lines);
  return { lines: kept, undated: false };
}

/** The lines of a text, without the empty one after a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * Cuts a stream of chunks into whole lines (for `--follow`): `push` returns the lines completed
 * so far, `flush` the rest at the end.
 */
export class LineBuffer {
  private rest = "";
  /** Adds a chunk; returns the lines it completed. */
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const cut = text.lastIndexOf("\n");
    if (cut < 0) {
      this.rest = text;
      return [];
    }
    this.rest = text.slice(cut + 1);
    return text
      .slice(0, cut)
      .split("\n")
      .map((l) => l.replace(/\r$/, ""));
  }
  /** What is left after the last newline, as a line (empty array when nothing). */
  flush(): string[] {
    const r = this.rest;
    this.rest = "";
    return r === "" ? [] : [r];
  }
}
