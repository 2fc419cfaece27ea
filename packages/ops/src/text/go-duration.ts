/**
 * Durations in Go's syntax, read exactly as Go's `time.ParseDuration` reads them (`300ms`, `1.5h`,
 * `2h45m`, `-1.5h`, `ns`/`us`/`µs`/`ms`/`s`/`m`/`h`, a lone `0`). flyctl decodes fly.toml
 * durations (fly-go `Duration`) and its `--wait-timeout` flag with that function.
 *
 * Written by hand: no maintained npm package follows Go's grammar (`ms` and `parse-duration`
 * accept spaces, `d`/`y` units and bare numbers as milliseconds, and know no `µs`), so this is a
 * step-by-step port of `ParseDuration` in Go's src/time/format.go, checked against Go itself by
 * test/text/go-duration.test.ts (oracle: test/fixtures/go-duration).
 */

/** What {@link parseGoDuration} found: Go's nanoseconds (an int64), or why Go refuses the text. */
export type GoDuration = { ok: true; ns: bigint } | { ok: false; reason: "invalid duration" | "missing unit" | "unknown unit" };

const NS_PER: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n, // µ, the micro sign
  "\u03bcs": 1_000n, // μ, the Greek letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const LIMIT = 1n << 63n;
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * Reads `text` as Go's `time.ParseDuration` does, nanosecond for nanosecond (fractions are
 * truncated the way Go's float64 step truncates them; more than ±292 years is refused).
 */
export function parseGoDuration(text: string): GoDuration {
  let s = text;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, ns: 0n };
  if (s === "") return { ok: false, reason: "invalid duration" };
  let total = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) return { ok: false, reason: "invalid duration" };
    // [0-9]*: Go refuses an integer part over 2^63.
    let i = 0;
    let v = 0n;
    for (; isDigit(s[i]); i++) {
      if (v > LIMIT / 10n) return { ok: false, reason: "invalid duration" };
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > LIMIT) return { ok: false, reason: "invalid duration" };
    }
    const pre = i > 0;
    s = s.slice(i);
    // (\.[0-9]*)?: digits past int64 precision are read and dropped, as Go does.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      let overflow = false;
      for (i = 0; isDigit(s[i]); i++) {
        if (overflow) continue;
        if (f > (LIMIT - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(i) - 48);
        if (y > LIMIT) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = i > 0;
      s = s.slice(i);
    }
    if (!pre && !post) return { ok: false, reason: "invalid duration" };
    // The unit runs to the next digit or period.
    for (i = 0; i < s.length && !(s[i] === "." || isDigit(s[i])); i++);
    if (i === 0) return { ok: false, reason: "missing unit" };
    const unit = NS_PER[s.slice(0, i)];
    s = s.slice(i);
    if (unit === undefined) return { ok: false, reason: "unknown unit" };
    if (v > LIMIT / unit) return { ok: false, reason: "invalid duration" };
    v *= unit;
    if (f > 0n) {
      // Go: v += uint64(float64(f) * (float64(unit) / scale)); JS numbers are the same float64.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > LIMIT) return { ok: false, reason: "invalid duration" };
    }
    total += v;
    if (total > LIMIT) return { ok: false, reason: "invalid duration" };
  }
  if (neg) return { ok: true, ns: -total };
  if (total > LIMIT - 1n) return { ok: false, reason: "invalid duration" };
  return { ok: true, ns: total };
}

/** Nanoseconds as (possibly fractional) milliseconds. */
export const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/** A Go duration in milliseconds (fractions kept: `1us` is 0.001), or `undefined` when Go refuses it. */
export function goDurationMs(text: string): number | undefined {
  const d = parseGoDuration(text);
  return d.ok ? nsToMs(d.ns) : undefined;
}

/**
 * flyctl's `--wait-timeout`: a Go duration, or a bare integer meaning seconds (flyctl docs for
 * `fly deploy`; the default is `5m0s`).
 * @returns milliseconds, or `undefined` when flyctl would refuse the value.
 */
export function flyWaitTimeoutMs(text: string): number | undefined {
  if (/^[+-]?\d+$/.test(text)) return Number(text) * 1000;
  return goDurationMs(text);
}
