import { describe, expect, it } from "vitest";
import { parseDurationMs } from "../../src/cli/duration.ts";
import { UsageError } from "../../src/errors.ts";

describe("parseDurationMs", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    ["0.5s", 500],
    ["1.5m", 90_000],
    ["45", 45_000],
    ["1.5", 1_500],
    ["0", 0],
    [" 10m ", 600_000],
    // Go's syntax, as flyctl and fly.toml write durations
    ["1.5h", 5_400_000],
    ["2h45m", 9_900_000],
    [".5s", 500],
    ["1500us", 2],
    ["1500µs", 2],
    ["+30s", 30_000],
  ])("%j → %i ms", (text, ms) => {
    expect(parseDurationMs(text, "--lock-wait")).toBe(ms);
  });

  it.each(["", "10x", "10 m", "1m30", "m", "ten minutes", "5s ago", "1,5s", "1d", "-"])(
    "refuses %j, naming the flag and the value",
    (text) => {
      let err: unknown;
      try {
        parseDurationMs(text, "--lock-wait");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      const e = err as UsageError;
      expect(e.message).toBe(`--lock-wait "${text}" is not a duration`);
      expect(e.exitCode).toBe(2);
      expect(e.fix).toBe("Use a Go duration such as 30s, 10m, 1h30m or 500ms (or a number of seconds).");
    },
  );

  it("refuses a negative duration, which Go's syntax can write", () => {
    expect(() => parseDurationMs("-5s", "--since")).toThrow(UsageError);
    expect(() => parseDurationMs("-5s", "--since")).toThrow('--since "-5s" is negative');
  });
});
