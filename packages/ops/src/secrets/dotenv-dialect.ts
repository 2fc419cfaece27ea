/**
 * The one dialect in which `@repo/ops` reads a secrets file (`.env.production`). It reads common
 * dotenv files the way people expect, and errors wherever a dotenv tool might guess. The full spec
 * with examples is `packages/ops/docs/secrets-file-format.md`; in short:
 *
 * - Encoding: UTF-8. A leading BOM is dropped with a warning. Bytes that are not UTF-8, or a NUL, are
 *   an error. CRLF and lone CR are line breaks (everywhere, also inside quotes), with a warning.
 * - A blank line, or a line whose first non-space character is `#`, is a comment.
 * - `KEY=VALUE`, optionally after `export ` (any spaces or tabs after `export`); spaces and tabs may
 *   surround `=`. KEY matches `^[A-Za-z_][A-Za-z0-9_]*$`. A line without `=` is an error.
 * - Unquoted value: up to the first `#` that follows a space or tab (an inline comment), then trimmed.
 *   `A=a#b` is `a#b`; `A=a #b` is `a`. Backslashes, quotes inside and `$` are literal: no expansion.
 * - `'…'`: literal, no escapes, one line only.
 * - `"…"`: escapes `\n \r \t \\ \" \$`, any other backslash is an error; may span lines (each line
 *   break is a `\n` in the value).
 * - `"""…"""`: literal, no escapes. On one line it is the text between. Otherwise the value is the
 *   rest of the opening line + `\n` + each following line verbatim + `\n`, up to the text before the
 *   first `"""` on a later line (as flyctl reads it: the line break after an opening `"""` is kept).
 * - After a closing quote only spaces, tabs and a `#` comment may follow.
 * - An empty value is allowed. A key defined twice is an error naming both lines.
 *
 * Errors name the file, the line and the key, never a value, nor any text of a malformed line.
 */
import { isUtf8 } from "node:buffer";
import { SecretsError } from "../errors.ts";
import { Secret } from "./secret.ts";

/** One `KEY=VALUE` of a secrets file. */
export interface SecretsFileEntry {
  /** The key, without `export`. */
  key: string;
  /** The value, with quotes removed and escapes applied. */
  value: Secret;
  /** 1-based line where the entry starts. */
  line: number;
  /** How the value was written. */
  quoting: Quoting;
  /** 1-based line where the entry ends (the closing quote of a multi-line value). */
  endLine: number;
}

/** How a value was written: unquoted, `'…'`, `"…"` or a `"""` block. */
export type Quoting = "none" | "single" | "double" | "triple";

/** Result of {@link parseSecretsFile}. */
export interface SecretsFileParse {
  /** Entries in file order. */
  entries: SecretsFileEntry[];
  /** File-level notes (BOM, line endings) to print; they never hold a value. */
  warnings: string[];
}

const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TRAILER = /^[ \t]*(#.*)?$/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', $: "$" };

/** One malformed line: thrown inside the parser, collected by {@link parseSecretsFile}. */
class LineProblem extends Error {
  constructor(
    readonly lineNo: number,
    message: string,
    readonly fix: string,
    /** Index of the line to read next (past the end for a block that runs to the end of the file). */
    readonly resumeAt: number,
  ) {
    super(message);
  }
}

class Cursor {
  constructor(
    readonly source: string,
    readonly lines: readonly string[],
  ) {}
  /** The entry read last (also one that failed): a following line without "=" may be meant as its continuation. */
  prev: { key: string; endLine: number; continuable: boolean } | undefined;
  /** Stops reading this entry; parsing goes on at line index `resumeAt` (default: the next line). */
  fail(lineNo: number, message: string, fix: string, resumeAt = lineNo): never {
    throw new LineProblem(lineNo, message, fix, resumeAt);
  }
  /** A warning about a line that parses but is probably not read the way its author meant. */
  note(lineNo: number, key: string, message: string): string {
    return `${this.source}:${lineNo}: ${key}: ${message}`;
  }
}

/**
 * Parse a secrets file in the dialect described in the module docstring.
 *
 * @param text the file's bytes (checked as UTF-8) or its already decoded text.
 * @param source the file name used in errors and warnings.
 * @returns the entries in file order, and warnings: the file's encoding and line endings, and
 *   lines the dialect reads differently from what their author probably meant (see {@link lintEntry}).
 *   Each warning names `file:line` and the key, never the value.
 * @throws {SecretsError} for invalid UTF-8, a NUL, a line without `=`, an invalid or duplicate key,
 *   an unclosed quote or `"""` block, an unknown escape, or text after a closing quote. Every
 *   malformed line is reported in one error; each names `file:line` and the key, never the value.
 */
export function parseSecretsFile(text: string | Buffer, source = ".env.production"): SecretsFileParse {
  const warnings: string[] = [];
  const lines = decode(text, source, warnings).split("\n");
  const cursor = new Cursor(source, lines);
  const entries: SecretsFileEntry[] = [];
  const firstSeen = new Map<string, number>();

  const problems: LineProblem[] = [];
  let i = 0;
  while (i < lines.length) {
    try {
      i = readEntry(cursor, i, entries, firstSeen, warnings);
    } catch (err) {
      if (!(err instanceof LineProblem)) throw err;
      problems.push(err);
      i = Math.max(err.resumeAt, i + 1);
    }
  }
  if (problems.length === 1) {
    const p = problems[0]!;
    throw new SecretsError(`${source}:${p.lineNo}: ${p.message}`, { where: `${source}:${p.lineNo}`, fix: p.fix });
  }
  if (problems.length > 1) {
    const fixes = [...new Set(problems.map((p) => p.fix))];
    throw new SecretsError(
      `${source} has ${problems.length} malformed lines:\n  ${problems.map((p) => `${source}:${p.lineNo}: ${p.message}`).join("\n  ")}`,
      {
        where: `${source}:${problems[0]!.lineNo}`,
        fix: fixes.join(" "),
      },
    );
  }
  return { entries, warnings };
}

/** Reads the entry (or comment) starting at line index `i`; returns the index of the next unread line. */
function readEntry(cursor: Cursor, i: number, entries: SecretsFileEntry[], firstSeen: Map<string, number>, warnings: string[]): number {
  const lines = cursor.lines;
  const lineNo = i + 1;
  const body = (lines[i] ?? "").replace(/^[ \t]+/, "");
  if (body === "" || body.startsWith("#")) return i + 1;
  const rest = body.replace(/^export[ \t]+(?=[A-Za-z_])/, "");
  const eq = rest.indexOf("=");
  if (eq === -1) {
    const prev = cursor.prev;
    const continues = prev && prev.endLine === lineNo - 1 && prev.continuable ? prev.key : undefined;
    cursor.fail(
      lineNo,
      'expected KEY=VALUE but the line has no "=" (its text is not shown: it may hold a secret)' +
        (continues
          ? `; if it continues the value of ${continues} on line ${lineNo - 1}, write that value in double quotes or a """ block`
          : ""),
      continues
        ? `Write a multi-line value as ${continues}="line 1\\nline 2" or in a """ block; or start this line with "#" to make it a comment.`
        : 'Write KEY=VALUE, or start the line with "#" to make it a comment.',
    );
  }
  const key = rest.slice(0, eq).replace(/[ \t]+$/, "");
  if (!KEY_PATTERN.test(key)) {
    const column = (lines[i] ?? "").length - rest.length + badKeyIndex(key) + 1;
    cursor.fail(
      lineNo,
      `invalid key at column ${column}: keys must match ^[A-Za-z_][A-Za-z0-9_]*$ (the text is not shown: it may hold a secret)`,
      "Use letters, digits and underscores, not starting with a digit.",
    );
  }
  const earlier = firstSeen.get(key);
  if (earlier !== undefined) {
    cursor.fail(lineNo, `duplicate key ${key} (first defined at line ${earlier})`, "Keep one of the two lines.");
  }
  firstSeen.set(key, lineNo);
  cursor.prev = { key, endLine: lineNo, continuable: true };
  const read = readValue(cursor, key, i, rest.slice(eq + 1));
  cursor.prev = { key, endLine: read.nextIndex, continuable: read.quoting === "none" };
  const entry = { key, value: new Secret(read.value), line: lineNo, quoting: read.quoting, endLine: read.nextIndex };
  entries.push(entry);
  warnings.push(...lintEntry(cursor, entry, body !== rest, rest.slice(eq + 1)));
  return read.nextIndex;
}

/**
 * Warnings for a line that parses but whose reading is probably not what its author meant. Each
 * names the line and key and says how to quote; none holds any text of the value.
 */
function lintEntry(cursor: Cursor, entry: SecretsFileEntry, hadExport: boolean, afterEq: string): string[] {
  const out: string[] = [];
  const { key, line } = entry;
  if (hadExport) {
    out.push(
      cursor.note(
        line,
        key,
        `the "export " prefix is dropped (the key is ${key}); other tools may read this line differently. Remove "export ".`,
      ),
    );
  }
  if (entry.quoting === "none") {
    const comment = /[ \t]#/.exec(afterEq);
    const raw = comment ? afterEq.slice(0, comment.index) : afterEq;
    const value = raw.replace(/^[ \t]+/, "");
    if (comment && value.length > 0) {
      out.push(
        cursor.note(
          line,
          key,
          `the unquoted value ends at " #": the rest of the line is read as a comment. If "#…" is part of the value, quote it: ${key}='…'; if it is a comment, put it on its own line.`,
        ),
      );
    }
    if (!comment && /[ \t]$/.test(raw) && value.trim().length > 0) {
      out.push(
        cursor.note(
          line,
          key,
          `the unquoted value has trailing spaces or tabs, which are dropped. If they are part of the value, quote it: ${key}="…"; otherwise remove them.`,
        ),
      );
    }
    const dq = (value.match(/"/g) ?? []).length;
    const sq = (value.match(/'/g) ?? []).length;
    if (dq % 2 === 1 || sq % 2 === 1) {
      out.push(
        cursor.note(
          line,
          key,
          `the unquoted value has an unbalanced ${dq % 2 === 1 ? '"' : "'"} quote, which is kept as part of the value. If the value was meant to be quoted, quote all of it: ${key}="…" (or ${key}='…' when it holds a ").`,
        ),
      );
    }
    if (/\\[ \t]*$/.test(raw)) {
      out.push(
        cursor.note(
          line,
          key,
          `the unquoted value ends with a backslash, which is kept; the next line is not a continuation. For a multi-line value write ${key}="line 1\\nline 2" or a """ block.`,
        ),
      );
    }
  } else if (entry.quoting === "double" || entry.quoting === "triple") {
    // A quote meant to close on its own line that runs on and swallows the following KEY=VALUE lines.
    const swallowed: number[] = [];
    for (let j = line; j < entry.endLine; j++)
      if (/^[ \t]*(export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*=/.test(cursor.lines[j] ?? "")) swallowed.push(j + 1);
    if (swallowed.length > 0) {
      const shown = swallowed.slice(0, 3).join(", ") + (swallowed.length > 3 ? ", …" : "");
      out.push(
        cursor.note(
          line,
          key,
          `the ${entry.quoting === "double" ? "double-quoted value" : '""" block'} opened here runs to line ${entry.endLine} and takes in line${swallowed.length > 1 ? "s" : ""} ${shown}, which look${swallowed.length > 1 ? "" : "s"} like KEY=VALUE. If the quote was meant to close on line ${line}, close it there (escape a " inside as \\").`,
        ),
      );
    }
  }
  return out;
}

/** Index of the first character that makes `key` invalid (0 for an empty key: the `=` itself). */
function badKeyIndex(key: string): number {
  return /^[A-Za-z_]/.test(key) ? key.slice(1).search(/[^A-Za-z0-9_]/) + 1 : 0;
}

/** Bytes or text → text with LF line breaks; records BOM and line-ending warnings. */
function decode(input: string | Buffer, source: string, warnings: string[]): string {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    let start = 0;
    while (start <= input.length) {
      const nl = input.indexOf(0x0a, start);
      const end = nl === -1 ? input.length : nl;
      if (!isUtf8(input.subarray(start, end))) {
        const lineNo = countByte(input.subarray(0, start), 0x0a) + 1;
        throw new SecretsError(`${source}:${lineNo}: the file is not valid UTF-8`, {
          where: `${source}:${lineNo}`,
          fix: "Re-save the file as UTF-8.",
        });
      }
      if (nl === -1) break;
      start = nl + 1;
    }
    text = input.toString("utf8");
  }
  if (text.startsWith("\uFEFF")) {
    text = text.slice(1);
    warnings.push(`${source}: the file starts with a UTF-8 byte order mark (BOM); it was ignored. Save the file as UTF-8 without BOM.`);
  }
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const loneCr = (text.match(/\r(?!\n)/g) ?? []).length;
  if (crlf + loneCr > 0) {
    const kind = [crlf > 0 ? "Windows (CRLF)" : "", loneCr > 0 ? "bare CR" : ""].filter(Boolean).join(" and ");
    warnings.push(
      `${source}: the file has ${kind} line endings; they were read as LF. ` +
        `Add "${source} text eol=lf" to .gitattributes or re-save the file with LF endings.`,
    );
    text = text.replace(/\r\n?/g, "\n");
  }
  const nul = text.indexOf("\0");
  if (nul !== -1) {
    const lineNo = text.slice(0, nul).split("\n").length;
    throw new SecretsError(`${source}:${lineNo}: the file contains a NUL character`, {
      where: `${source}:${lineNo}`,
      fix: "Secrets files are text; remove the NUL (is this a binary file?).",
    });
  }
  return text;
}

function countByte(buf: Buffer, byte: number): number {
  let n = 0;
  for (const b of buf) if (b === byte) n++;
  return n;
}

/** A value read by {@link readValue}, with the index of the next unread line and how it was quoted. */
interface ReadValue {
  value: string;
  nextIndex: number;
  quoting: Quoting;
}

/** Reads the value that starts after `=` on line index `i`; returns it and the index of the next unread line. */
function readValue(cursor: Cursor, key: string, i: number, afterEq: string): ReadValue {
  const v = afterEq.replace(/^[ \t]+/, "");
  if (v.startsWith('"""')) return { ...readTripleQuoted(cursor, key, i, v.slice(3)), quoting: "triple" };
  if (v.startsWith('"')) return { ...readDoubleQuoted(cursor, key, i, v.slice(1)), quoting: "double" };
  if (v.startsWith("'")) {
    const close = v.indexOf("'", 1);
    if (close === -1) {
      cursor.fail(
        i + 1,
        `the single-quoted value of ${key} is not closed on the same line (single-quoted values cannot span lines)`,
        'Close the quote, or use double quotes with \\n or a """ block for a multi-line value.',
      );
    }
    checkTrailer(cursor, key, i, v.slice(close + 1));
    return { value: v.slice(1, close), nextIndex: i + 1, quoting: "single" };
  }
  const comment = /[ \t]#/.exec(afterEq);
  const raw = comment ? afterEq.slice(0, comment.index) : afterEq;
  return { value: raw.replace(/^[ \t]+|[ \t]+$/g, ""), nextIndex: i + 1, quoting: "none" };
}

function checkTrailer(cursor: Cursor, key: string, lineIndex: number, trailer: string): void {
  if (!TRAILER.test(trailer)) {
    cursor.fail(
      lineIndex + 1,
      `unexpected text after the closing quote of ${key}`,
      'Only spaces and a "# comment" may follow a closing quote; put the whole value inside the quotes.',
    );
  }
}

function readDoubleQuoted(cursor: Cursor, key: string, openIndex: number, firstRest: string): { value: string; nextIndex: number } {
  let out = "";
  let index = openIndex;
  let text = firstRest;
  for (;;) {
    for (let j = 0; j < text.length; j++) {
      const ch = text[j];
      if (ch === "\\") {
        const mapped = ESCAPES[text[j + 1] ?? ""];
        if (mapped === undefined) {
          cursor.fail(
            index + 1,
            `unknown escape sequence in the double-quoted value of ${key} (opened on line ${openIndex + 1})`,
            'Only \\n \\r \\t \\\\ \\" \\$ are escapes; write \\\\ for a backslash or use single quotes for literal text.',
          );
        }
        out += mapped;
        j++;
      } else if (ch === '"') {
        checkTrailer(cursor, key, index, text.slice(j + 1));
        return { value: out, nextIndex: index + 1 };
      } else {
        out += ch;
      }
    }
    index++;
    const next = cursor.lines[index];
    if (next === undefined) {
      cursor.fail(
        openIndex + 1,
        `the double-quoted value of ${key} opened on line ${openIndex + 1} is never closed`,
        'Add the closing ", or escape a " inside the value as \\".',
        cursor.lines.length,
      );
    }
    out += "\n";
    text = next;
  }
}

function readTripleQuoted(cursor: Cursor, key: string, openIndex: number, firstRest: string): { value: string; nextIndex: number } {
  const close = firstRest.indexOf('"""');
  if (close !== -1) {
    checkTrailer(cursor, key, openIndex, firstRest.slice(close + 3));
    return { value: firstRest.slice(0, close), nextIndex: openIndex + 1 };
  }
  let out = `${firstRest}\n`;
  for (let index = openIndex + 1; index < cursor.lines.length; index++) {
    const text = cursor.lines[index] ?? "";
    const end = text.indexOf('"""');
    if (end === -1) {
      out += `${text}\n`;
      continue;
    }
    checkTrailer(cursor, key, index, text.slice(end + 3));
    return { value: out + text.slice(0, end), nextIndex: index + 1 };
  }
  return cursor.fail(
    openIndex + 1,
    `the """ block of ${key} opened on line ${openIndex + 1} is never closed`,
    'Add a line ending with """ after the last line of the value.',
    cursor.lines.length,
  );
}
