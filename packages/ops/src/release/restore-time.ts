// Hand-written: Date.parse accepts times without a zone (read as local time) and forms RFC 3339 does not allow, and rolls 02-30 over to March; a strict check with a message naming the part that is wrong is a few lines.
import { UsageError } from "../errors.ts";

/** An example for messages: the form every restore time takes. */
export const RESTORE_TIME_EXAMPLE = "2026-12-07T08:40:00Z";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Parses a point in time given to `--to` for a database restore: RFC 3339 `date-time` (section 5.6)
 * with its time zone, `Z` or a `±hh:mm` offset (`T` or a space between date and time, fractional
 * seconds allowed, upper or lower case `T`/`Z`). A time without a zone is refused: it would be read
 * in whatever zone the machine has, and a restore must not depend on that.
 * @returns the instant (a `Date`; fractions below a millisecond are dropped).
 * @throws {UsageError} naming `flag`, the value seen, what is wrong and an example.
 */
export function parseRestoreTime(text: string, flag = "--to"): Date {
  const value = text.trim();
  const refuse = (what: string): never => {
    throw new UsageError(`${flag} "${text}" ${what}`, {
      fix: `Give an RFC 3339 time with its zone, e.g. ${flag} ${RESTORE_TIME_EXAMPLE} (UTC) or ${flag} 2026-12-07T09:40:00+01:00.`,
    });
  };
  const m = RFC3339.exec(value);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) refuse("is a date without a time of day");
    refuse("is not an RFC 3339 time (YYYY-MM-DDThh:mm:ss with a zone)");
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m!;
  if (zone === undefined) refuse("has no time zone; a time without one would be read in this machine's zone");
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) refuse(`has no month ${mo}`);
  if (day < 1 || day > daysIn(year, month)) refuse(`has no day ${d} in ${y}-${mo}`);
  if (hour > 23 || minute > 59) refuse(`has no time of day ${h}:${mi}`);
  if (second > 59) refuse(`has second ${s}; leap seconds cannot be restored to, use :59`);
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const [oh, om] = zone.slice(1).split(":").map(Number) as [number, number];
    if (oh > 23 || om > 59) refuse(`has no zone offset ${zone}`);
    offsetMinutes = sign * (oh * 60 + om);
  }
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000);
}
