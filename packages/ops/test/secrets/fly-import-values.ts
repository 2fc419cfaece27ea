// Generated secret values for the `fly secrets import` round-trip tests (the library's own reader
// and the flyctl stand-in's independent one): one generator, so both check the same values.
import fc from "fast-check";
import { expect } from "vitest";
import { SecretsError } from "../../src/errors.ts";

/** Pieces flyctl's importer treats specially (quotes, #, =, backslashes, line ends, odd spaces, a BOM) and plain ones. */
export const FRAGMENTS = [
  "a",
  "Z",
  "0",
  "-",
  "=",
  "==",
  " ",
  "  ",
  "\t",
  "#",
  " #",
  '"',
  '""',
  '"""',
  "'",
  "''",
  "$",
  "$HOME",
  "\\",
  "\\n",
  '\\"',
  "\n",
  "\n\n",
  "é",
  "🔑",
  "漢",
  "\u00a0",
  "\u0085",
  "\u2028",
  "\uFEFF",
  "`x`",
  "{}",
];

/** Pieces no value may carry to flyctl (a carriage return, NUL, half a surrogate pair): the library refuses them. */
export const RARE = ["\r", "\0", "\uD83D"];

/** A value: mostly fragments (a rare piece now and then), sometimes arbitrary code units. */
export const flyImportValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof({ weight: 49, arbitrary: fc.constantFrom(...FRAGMENTS) }, { weight: 1, arbitrary: fc.constantFrom(...RARE) }), {
        maxLength: 14,
      })
      .map((parts) => parts.join("")),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
);

/** The reasons the library may give for refusing a value (each names the rule, never the value). */
export const ALLOWED_REFUSALS = [
  /carriage return/,
  /NUL character/,
  /unpaired UTF-16 surrogate/,
  /first line of the multi-line value ends with """/,
  /first line of the multi-line value has a # after an odd number of "/,
  /line \d+ of the multi-line value ends with """/,
];

/** Asserts `error` is the library's refusal of the secret `key` for one of {@link ALLOWED_REFUSALS}. */
export function expectDocumentedRefusal(error: unknown, key: string): void {
  expect(error).toBeInstanceOf(SecretsError);
  const message = (error as SecretsError).message;
  expect(message).toContain(`cannot send secret ${key} to`);
  expect(
    ALLOWED_REFUSALS.some((r) => r.test(message)),
    message,
  ).toBe(true);
}
