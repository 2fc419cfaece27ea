import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.ts";
import { parseRestoreTime } from "../../src/release/restore-time.ts";

const fixOf = (text: string) => {
  try {
    parseRestoreTime(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return { message: (err as UsageError).message, fix: (err as UsageError).fix };
  }
  throw new Error(`"${text}" was accepted`);
};

describe("parseRestoreTime: RFC 3339 with a zone", () => {
  it.each([
    ["2026-12-07T08:40:00Z", "2026-12-07T08:40:00.000Z"],
    ["2026-12-07T09:40:00+01:00", "2026-12-07T08:40:00.000Z"],
    ["2026-12-07T03:10:00-05:30", "2026-12-07T08:40:00.000Z"],
    ["2026-12-07t08:40:00z", "2026-12-07T08:40:00.000Z"],
    ["2026-12-07 08:40:00Z", "2026-12-07T08:40:00.000Z"],
    ["2026-12-07T08:40:00.123456Z", "2026-12-07T08:40:00.123Z"],
    ["2026-12-07T08:40:00-00:00", "2026-12-07T08:40:00.000Z"],
    ["2028-02-29T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["2026-12-07T00:30:00+14:00", "2026-12-06T10:30:00.000Z"],
    ["  2026-12-07T08:40:00Z  ", "2026-12-07T08:40:00.000Z"],
  ])("%s is %s", (text, iso) => {
    expect(parseRestoreTime(text).toISOString()).toBe(iso);
  });

  it.each([
    ["2026-12-07T08:40:00", "has no time zone; a time without one would be read in this machine's zone"],
    ["2026-12-07 08:40:00.5", "has no time zone; a time without one would be read in this machine's zone"],
    ["2026-12-07", "is a date without a time of day"],
    ["2026-12-07T08:40Z", "is not an RFC 3339 time (YYYY-MM-DDThh:mm:ss with a zone)"],
    ["2026-12-07T08:40:00+0100", "is not an RFC 3339 time (YYYY-MM-DDThh:mm:ss with a zone)"],
    ["2026-12-07T08:40:00 UTC", "is not an RFC 3339 time (YYYY-MM-DDThh:mm:ss with a zone)"],
    ["1733560800", "is not an RFC 3339 time (YYYY-MM-DDThh:mm:ss with a zone)"],
    ["yesterday", "is not an RFC 3339 time (YYYY-MM-DDThh:mm:ss with a zone)"],
    ["2026-02-29T00:00:00Z", "has no day 29 in 2026-02"],
    ["2026-13-01T00:00:00Z", "has no month 13"],
    ["2026-12-07T24:00:00Z", "has no time of day 24:00"],
    ["2026-12-31T23:59:60Z", "has second 60; leap seconds cannot be restored to, use :59"],
    ["2026-12-07T08:40:00+24:00", "has no zone offset +24:00"],
  ])("%s is refused: %s", (text, what) => {
    const { message, fix } = fixOf(text);
    expect(message).toBe(`--to "${text}" ${what}`);
    expect(fix).toBe("Give an RFC 3339 time with its zone, e.g. --to 2026-12-07T08:40:00Z (UTC) or --to 2026-12-07T09:40:00+01:00.");
  });
});
