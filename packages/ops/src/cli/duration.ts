import { UsageError } from "../errors.ts";
import { parseGoDuration } from "../text/go-duration.ts";

const FIX = "Use a Go duration such as 30s, 10m, 1h30m or 500ms (or a number of seconds).";

/**
 * Reads a duration flag (`--lock-wait`, `OPS_LOCK_WAIT`, `--since`) into milliseconds: Go's
 * duration syntax (`500ms`, `1m30s`, `1.5h`; see text/go-duration.ts), or a bare number meaning
 * seconds. Surrounding spaces are ignored.
 * @throws {UsageError} naming the flag and the value seen when it is not a duration or is negative.
 */
export function parseDurationMs(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const d = parseGoDuration(t);
  if (!d.ok) throw new UsageError(`${flag} "${text}" is not a duration`, { fix: FIX });
  if (d.ns < 0n) throw new UsageError(`${flag} "${text}" is negative`, { fix: `${FIX} A wait cannot be shorter than nothing.` });
  return Math.round(Number(d.ns) / 1e6);
}
