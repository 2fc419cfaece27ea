import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flyWaitTimeoutMs, goDurationMs, parseGoDuration } from "../../src/text/go-duration.ts";

/** Asks Go's own time.ParseDuration (test/fixtures/go-duration) about each text: ns as a decimal string, or undefined when Go refuses it. */
function goParses(texts: readonly string[]): (string | undefined)[] {
  const out = execFileSync("go", ["run", "."], {
    cwd: resolve(import.meta.dirname, "../fixtures/go-duration"),
    input: `${texts.map((t) => JSON.stringify(t)).join("\n")}\n`,
    env: { ...process.env, GOFLAGS: "-mod=readonly" },
    encoding: "utf8",
    timeout: 240_000,
  });
  return out
    .trim()
    .split("\n")
    .map((line) => {
      const r = JSON.parse(line) as { ok: boolean; ns?: string };
      return r.ok ? r.ns : undefined;
    });
}

const ours = (t: string) => {
  const d = parseGoDuration(t);
  return d.ok ? d.ns.toString() : undefined;
};

/** Inputs that probe every branch of Go's grammar: signs, the lone 0, fractions, each unit, overflow, and near misses. */
const EDGES = [
  "0",
  "-0",
  "+0",
  "00",
  "",
  "-",
  "+",
  ".",
  ".s",
  "-.s",
  "s",
  "1",
  "1.5",
  "-1",
  "300ms",
  "1.5h",
  "2h45m",
  "-1.5h",
  "+5s",
  "1h2m3s4ms5us6ns",
  "1µs",
  "1μs",
  "1us",
  "1ns",
  "0.5ns",
  ".5s",
  "5.s",
  "5.",
  "1.0000000001s",
  "0.1h",
  "0.000000001s",
  "1.999999999999999999999s",
  "1d",
  "1 s",
  " 1s",
  "1s ",
  "1S",
  "1sm",
  "1m1",
  "1e3s",
  "1,5s",
  "1h-1m",
  "1h+1m",
  "--1s",
  "1.2.3s",
  "9223372036854775807ns",
  "9223372036854775808ns",
  "-9223372036854775808ns",
  "-9223372036854775809ns",
  "2562047h47m16.854775807s",
  "2562047h47m16.854775808s",
  "-2562047h47m16.854775808s",
  "2562048h",
  "92233720368547758070ns",
  "0.92233720368547758079s",
  "1.00000000000000000000000000001h",
  "5m0s",
  "10s",
  "1m30s",
];

describe("parseGoDuration: the same answers as Go's time.ParseDuration", () => {
  it("agrees with Go on every edge of the grammar, nanosecond for nanosecond", () => {
    const go = goParses(EDGES);
    expect(EDGES.map((t) => [t, ours(t)])).toEqual(EDGES.map((t, i) => [t, go[i]]));
  }, 300_000);

  it("agrees with Go on thousands of generated strings of digits, periods, signs and unit letters", () => {
    const token = fc.oneof(
      fc.constantFrom("ns", "us", "µs", "μs", "ms", "s", "m", "h", "d", "x", "M", ".", "-", "+", " ", "0"),
      fc.stringMatching(/^[0-9]{1,21}$/),
    );
    const texts = fc.sample(
      fc.oneof(
        fc.array(token, { maxLength: 8 }).map((parts) => parts.join("")),
        fc
          .tuple(
            fc.constantFrom("", "-", "+"),
            fc.array(fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom("ns", "us", "ms", "s", "m", "h")), {
              minLength: 1,
              maxLength: 4,
            }),
          )
          .map(([sign, parts]) => sign + parts.map(([n, u]) => `${n}${u}`).join("")),
      ),
      3000,
    );
    const go = goParses(texts);
    const disagreements = texts.map((t, i) => ({ text: t, ours: ours(t), go: go[i] })).filter((r) => r.ours !== r.go);
    expect(disagreements).toEqual([]);
  }, 300_000);
});

describe("goDurationMs / flyWaitTimeoutMs", () => {
  it.each([
    ["300ms", 300],
    ["1.5h", 5_400_000],
    ["2h45m", 9_900_000],
    ["-1.5h", -5_400_000],
    ["1us", 0.001],
    ["0", 0],
  ])("goDurationMs(%j) = %d", (text, ms) => expect(goDurationMs(text)).toBe(ms));

  it.each(["10", "1d", "1 s", "", "ten s"])("goDurationMs refuses %j", (text) => expect(goDurationMs(text)).toBeUndefined());

  it("--wait-timeout takes a Go duration or a bare integer of seconds, as flyctl does", () => {
    expect(flyWaitTimeoutMs("5m0s")).toBe(300_000);
    expect(flyWaitTimeoutMs("90")).toBe(90_000);
    expect(flyWaitTimeoutMs("1.5")).toBeUndefined();
    expect(flyWaitTimeoutMs("5 minutes")).toBeUndefined();
  });
});
