/**
 * The stdin format of `fly secrets import`: a faithful model of flyctl's parser, and a serializer
 * that writes each value in a form that parser reads back exactly, or refuses it.
 *
 * flyctl's importer is not a dotenv parser. Its rules come from superfly/flyctl
 * `internal/command/secrets/parser.go` and its `parser_test.go` (v0.4.x; flyctl docs:
 * `fly secrets import`):
 *
 * - Input is read with Go's `bufio.Scanner`: lines end at `\n`; one `\r` before it (or at the end
 *   of input) is dropped; a line of more than 65,535 bytes silently ends parsing.
 * - Outside a block, a line whose first character is `#`, or that is only whitespace, is skipped.
 * - The line is split at the first `=`. The name is whitespace-trimmed; the value loses leading
 *   spaces (not tabs). A line without `=` is an error that echoes the line.
 * - If the value has a `#` and the text before the first `#` holds an even number of `"`, the value
 *   is cut there and trailing spaces are removed.
 * - A value that starts and ends with `"""` (6+ characters) is its inner text. A value that starts
 *   with `"""` otherwise opens a block: rest of the line + `\n`, then each later line verbatim + `\n`,
 *   until a line that ends with `"""` adds the text before that `"""`. A block still open at the end
 *   is dropped without an error.
 * - Otherwise one pair of outer `"`, else of outer `'`, is removed. A value that is exactly `"` or
 *   `'` makes flyctl panic (exit 3). There are no escape sequences. A later duplicate name wins.
 */
import type { Secret } from "./secret.ts";
import { SecretsError } from "../errors.ts";

/** Longest line, in UTF-8 bytes without its `\n`, that Go's `bufio.Scanner` (64 KiB buffer) returns. */
export const FLY_MAX_LINE_BYTES = 65_535;

const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TRIPLE = '"""';

/** What {@link parseFlyImport} read, as flyctl would have read it. */
export interface FlyImportParse {
  /** Name → value, in first-seen order; a later duplicate replaced the value. */
  pairs: Map<string, string>;
  /** Names whose `"""` block was still open at the end of input; flyctl drops them silently. */
  droppedUnterminated: string[];
  /** 1-based number of the first line over {@link FLY_MAX_LINE_BYTES}, where flyctl silently stopped; `null` if none. */
  stoppedAtLine: number | null;
}

/**
 * flyctl's own error for a line without `=`. Like flyctl, the message echoes the line, which may
 * hold secret text: callers must redact before printing it.
 */
export class FlyImportParseError extends Error {
  readonly exitCode = 1;
  constructor(line: string) {
    super(`Failed to parse secrets from stdin: Secrets must be provided as NAME=VALUE pairs (${line} is invalid)`);
    this.name = "FlyImportParseError";
  }
}

/** Stands for flyctl's panic on a value that is exactly `"` or `'` (an out-of-range slice); flyctl exits 3. */
export class FlyImportPanicError extends Error {
  readonly exitCode = 3;
  constructor() {
    super("panic: runtime error: slice bounds out of range [1:0]");
    this.name = "FlyImportPanicError";
  }
}

// Go's unicode.IsSpace set, used by strings.TrimSpace (differs from JS trim: has U+0085, lacks U+FEFF).
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
const GO_TRIM_SPACE = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g");

function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM_SPACE, "");
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '"') n++;
  return n;
}

/** Lines as Go's `bufio.ScanLines` yields them, stopping (like flyctl) at the first over-long line. */
function scanLines(input: string): { lines: string[]; stoppedAtLine: number | null } {
  const raw = input.split("\n");
  if (raw[raw.length - 1] === "") raw.pop(); // no empty token after a final "\n" (or for "")
  const lines: string[] = [];
  for (const [i, segment] of raw.entries()) {
    if (Buffer.byteLength(segment, "utf8") > FLY_MAX_LINE_BYTES) return { lines, stoppedAtLine: i + 1 };
    lines.push(segment.endsWith("\r") ? segment.slice(0, -1) : segment);
  }
  return { lines, stoppedAtLine: null };
}

/**
 * Parse a `fly secrets import` stdin payload exactly as flyctl v0.4.x does (rules in the module
 * docstring). Dependency-free; used by tests and by the stand-in flyctl.
 *
 * @param stdin the payload text as flyctl would receive it (a BOM is not stripped, as in flyctl).
 * @returns the pairs flyctl would set, the names it would silently drop, and where it stopped reading.
 * @throws {FlyImportParseError} for a line without `=` (message echoes the line, as flyctl does).
 * @throws {FlyImportPanicError} for a value that is exactly `"` or `'` (flyctl panics, exit 3).
 */
export function parseFlyImport(stdin: string): FlyImportParse {
  const pairs = new Map<string, string>();
  const { lines, stoppedAtLine } = scanLines(stdin);
  let blockKey: string | null = null;
  let blockValue = "";

  for (const line of lines) {
    if (blockKey !== null) {
      if (line.endsWith(TRIPLE)) {
        pairs.set(blockKey, blockValue + line.slice(0, -TRIPLE.length));
        blockKey = null;
        blockValue = "";
      } else {
        blockValue += `${line}\n`;
      }
      continue;
    }
    if (line.startsWith("#") || goTrimSpace(line) === "") continue;
    const eq = line.indexOf("=");
    if (eq === -1) throw new FlyImportParseError(line);
    const key = goTrimSpace(line.slice(0, eq));
    let value = line.slice(eq + 1).replace(/^ +/, "");
    const hash = value.indexOf("#");
    if (hash !== -1 && countQuotes(value.slice(0, hash)) % 2 === 0) {
      value = value.slice(0, hash).replace(/ +$/, "");
    }
    if (value.startsWith(TRIPLE) && value.endsWith(TRIPLE) && value.length >= 6) {
      pairs.set(key, value.slice(3, -3));
    } else if (value.startsWith(TRIPLE)) {
      blockKey = key;
      blockValue = `${value.slice(3)}\n`;
    } else {
      for (const q of ['"', "'"]) {
        if (value.startsWith(q) && value.endsWith(q)) {
          if (value.length < 2) throw new FlyImportPanicError();
          value = value.slice(1, -1);
          break;
        }
      }
      pairs.set(key, value);
    }
  }
  return { pairs, droppedUnterminated: blockKey === null ? [] : [blockKey], stoppedAtLine };
}

/** True when a `#` in `text` would not start flyctl's inline comment, given `quotesBefore` `"` already on the line. */
function hashSurvives(text: string, quotesBefore: number): boolean {
  const hash = text.indexOf("#");
  return hash === -1 || (quotesBefore + countQuotes(text.slice(0, hash))) % 2 === 1;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The one-line form flyctl reads back as `v` (which has no `\n`): plain, `"…"`, `'…'` or `"""…"""`. */
function singleLineForm(v: string): string {
  if (v === "" || (!v.includes("#") && !/^[ "']/.test(v))) return v;
  if (!v.startsWith('""') && v !== '"' && hashSurvives(v, 1)) return `"${v}"`;
  if (hashSurvives(v, 0)) return `'${v}'`;
  // Here a `#` follows an even number of `"`: inside `"""…` the count before it is odd, so it survives.
  return `"""${v}"""`;
}

function refuse(key: string, reason: string, fix: string): never {
  throw new SecretsError(`cannot send secret ${key} to \`fly secrets import\`: ${reason}`, { where: key, fix });
}

/** Why flyctl cannot carry `v` unchanged, or `null` if it can. Names positions, never content. */
function refusalReason(v: string): { reason: string; fix: string } | null {
  if (v.includes("\r")) {
    return {
      reason:
        "the value contains a carriage return (CR); flyctl drops a CR at the end of every line, " +
        "and a CR elsewhere is refused as a likely CRLF accident",
      fix: "Save the secrets file with LF line endings or remove the \\r escape.",
    };
  }
  if (v.includes("\0")) {
    return {
      reason: "the value contains a NUL character, which no environment variable can hold",
      fix: "Remove the NUL character or base64-encode the value.",
    };
  }
  if (LONE_SURROGATE.test(v)) {
    return {
      reason: "the value contains an unpaired UTF-16 surrogate, which UTF-8 cannot encode",
      fix: "Fix the text encoding of the value.",
    };
  }
  if (!v.includes("\n")) return null;
  const lines = v.split("\n");
  const first = lines[0] ?? "";
  if (first.endsWith(TRIPLE)) {
    return {
      reason:
        'the first line of the multi-line value ends with """, ' + 'so flyctl would read that line as a complete one-line """…""" value',
      fix: "Change the first line of the value or base64-encode the value.",
    };
  }
  if (!hashSurvives(first, 3)) {
    return {
      reason:
        'the first line of the multi-line value has a # after an odd number of " characters, ' +
        "so flyctl would cut it there as an inline comment",
      fix: "Change the first line of the value or base64-encode the value.",
    };
  }
  for (let i = 1; i < lines.length - 1; i++) {
    if ((lines[i] ?? "").endsWith(TRIPLE)) {
      return {
        reason: `line ${i + 1} of the multi-line value ends with """, so flyctl would end the value there`,
        fix: "Change that line of the value or base64-encode the value.",
      };
    }
  }
  return null;
}

/**
 * Build the stdin payload for `fly secrets import`: one entry per key, each written in the form
 * flyctl v0.4.x reads back exactly. This is the only place in the package that reveals values.
 *
 * Forms, first that fits: `KEY=value` (no `#`, no leading space or quote); `KEY="value"` (a `#` is
 * kept when an even number of `"` precede it; not for values starting `""`); `KEY='value'` (a `#` is
 * kept when an odd number of `"` precede it); `KEY="""value"""`. Every one-line value fits one of
 * these. A value with `\n` is sent as a block: `KEY="""first line`, the middle lines verbatim, and
 * `last line"""`.
 *
 * Refused (flyctl would change or drop the value, or the value cannot be an env var):
 * - any CR (`\r`); NUL; an unpaired UTF-16 surrogate;
 * - multi-line: a first line ending with `"""`; a first line with a `#` after an odd number of `"`;
 *   a line other than the first and last that ends with `"""`;
 * - any payload line over {@link FLY_MAX_LINE_BYTES} UTF-8 bytes (flyctl would silently stop reading);
 * - a key not matching `^[A-Za-z_][A-Za-z0-9_]*$`, a duplicate key, or no entries at all.
 *
 * As a last guard the payload is parsed with {@link parseFlyImport} and compared with the input.
 *
 * @returns the payload text, each entry ending in `\n`.
 * @throws {SecretsError} naming only the key and the reason, never the value.
 */
export function serializeForFlyImport(entries: readonly { key: string; value: Secret }[]): string {
  if (entries.length === 0) {
    throw new SecretsError("no secrets to send to `fly secrets import`; flyctl fails with zero pairs", {
      fix: "Add at least one KEY=VALUE line to the secrets file.",
    });
  }
  const seen = new Set<string>();
  const chunks: string[] = [];
  for (const [index, { key, value }] of entries.entries()) {
    if (!KEY_PATTERN.test(key)) {
      // Not echoed: text that is not a key may be a pasted value.
      refuse(`#${index + 1}`, "its key does not match ^[A-Za-z_][A-Za-z0-9_]*$", "Rename the key.");
    }
    if (seen.has(key)) {
      refuse(key, "the key appears twice; flyctl would keep only the last value", "Remove one of the two entries.");
    }
    seen.add(key);
    const v = value.reveal();
    const problem = refusalReason(v);
    if (problem) refuse(key, problem.reason, problem.fix);
    const chunk = v.includes("\n") ? `${key}=${TRIPLE}${v}${TRIPLE}\n` : `${key}=${singleLineForm(v)}\n`;
    const lines = chunk.slice(0, -1).split("\n");
    const long = lines.findIndex((l) => Buffer.byteLength(l, "utf8") > FLY_MAX_LINE_BYTES);
    if (long !== -1) {
      refuse(
        key,
        `line ${long + 1} of the entry would be longer than ${FLY_MAX_LINE_BYTES} bytes, where flyctl silently stops reading`,
        "Shorten the value, or split it into several secrets.",
      );
    }
    chunks.push(chunk);
  }
  const payload = chunks.join("");
  verifyRoundTrip(payload, entries);
  return payload;
}

function verifyRoundTrip(payload: string, entries: readonly { key: string; value: Secret }[]): void {
  let parsed: FlyImportParse;
  try {
    parsed = parseFlyImport(payload);
  } catch {
    throw new SecretsError("internal error: flyctl could not parse the payload built for `fly secrets import`", {
      fix: "Report this as a bug in @repo/ops.",
    });
  }
  for (const { key, value } of entries) {
    if (parsed.pairs.get(key) !== value.reveal()) {
      refuse(key, "internal error: flyctl would read the value back differently", "Report this as a bug in @repo/ops.");
    }
  }
}
