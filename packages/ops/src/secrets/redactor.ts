/**
 * Masks known secret values in text before it is printed or written: command output, error
 * messages, logs. Every occurrence of every known form of every value becomes `[REDACTED]`.
 */
import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Secret } from "./secret.ts";

/** What replaces a secret in redacted text. */
export const REDACTED = "[REDACTED]";

/**
 * Values shorter than this many characters are not redacted: values such as `1`, `dev` or `yes`
 * would mask ordinary words all over the output, and are not secrets in practice.
 */
export const MIN_SECRET_LENGTH = 4;

/** A line of a multi-line value is redacted on its own when it has at least this many characters. */
export const MIN_LINE_LENGTH = 8;

/** Masks known secrets in text. */
export interface Redactor {
  /** Learn one more secret (or plain string); values under {@link MIN_SECRET_LENGTH} characters are ignored. */
  add(secret: Secret | string): void;
  /** `text` with every known form of every known value, and every URL password, replaced by `[REDACTED]`. */
  redact(text: string): string;
}

// scheme://user:password@ — the password runs to the last "@" before whitespace or "/".
const URL_PASSWORD = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@]*:([^\s/]*)@/g;

function reveal(secret: Secret | string): string {
  return typeof secret === "string" ? secret : secret.reveal();
}

/** The text forms in which `value` may show up in output. */
function formsOf(value: string): string[] {
  const bases = [value];
  if (value.includes("\n")) {
    for (const line of value.split("\n")) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_LINE_LENGTH) bases.push(trimmed);
    }
  }
  const forms: string[] = [];
  for (const base of bases) {
    const encoded = encodeURIComponent(base);
    forms.push(base, encoded, encoded.replace(/%20/g, "+"), JSON.stringify(base).slice(1, -1));
  }
  for (const match of value.matchAll(URL_PASSWORD)) {
    const password = match[1] ?? "";
    forms.push(password);
    try {
      forms.push(decodeURIComponent(password));
    } catch {
      // not percent-encoded; the raw form is already there
    }
  }
  return forms.filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/**
 * Create a redactor that knows `secrets`.
 *
 * Forms masked, for each value of at least {@link MIN_SECRET_LENGTH} characters: the value itself;
 * each trimmed line of at least {@link MIN_LINE_LENGTH} characters of a multi-line value; the
 * URL-encoded (`%20` and `+`) and JSON-string-escaped forms of those; and the password of any
 * `scheme://user:password@` URL inside the value (raw and decoded). Independently of known values,
 * the password part of every `scheme://user:password@` URL in the text is masked.
 *
 * Matching is done on all forms at once and overlapping matches are merged, so a longer value is
 * never half-masked by a shorter one (stronger than replacing longest first).
 */
export function createRedactor(secrets: Iterable<Secret | string> = []): Redactor {
  const forms = new Set<string>();
  const redactor: Redactor = {
    add(secret) {
      const value = reveal(secret);
      if (value.length < MIN_SECRET_LENGTH) return;
      for (const form of formsOf(value)) forms.add(form);
    },
    redact(text) {
      const spans: [number, number][] = [];
      for (const form of forms) {
        for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
          spans.push([at, at + form.length]);
        }
      }
      for (const match of text.matchAll(URL_PASSWORD)) {
        const password = match[1] ?? "";
        const end = (match.index ?? 0) + match[0].length - 1;
        if (password !== "") spans.push([end - password.length, end]);
      }
      if (spans.length === 0) return text;
      spans.sort((a, b) => a[0] - b[0]);
      let out = "";
      let copied = 0;
      let current: [number, number] | null = null;
      for (const span of spans) {
        if (current && span[0] <= current[1]) {
          current[1] = Math.max(current[1], span[1]);
          continue;
        }
        if (current) {
          out += text.slice(copied, current[0]) + REDACTED;
          copied = current[1];
        }
        current = [span[0], span[1]];
      }
      if (current) {
        out += text.slice(copied, current[0]) + REDACTED;
        copied = current[1];
      }
      return out + text.slice(copied);
    },
  };
  for (const secret of secrets) redactor.add(secret);
  return redactor;
}

/** Anything with a `write(text)`: `process.stdout`, a file stream, an array-backed test sink. */
export interface TextSink {
  write(chunk: string): unknown;
}

/**
 * A writable stream for line-oriented output (a child's stdout or stderr) that writes to `sink`
 * only redacted, complete lines. Text after the last `\n` is held back until more arrives or the
 * stream ends, so a value split across chunks is still masked; a multi-line value is masked whole
 * when its lines arrive together, and line by line otherwise ({@link MIN_LINE_LENGTH}).
 *
 * @returns a `Writable` accepting strings or UTF-8 bytes; `end()` flushes the last partial line.
 */
export function redactingWriter(sink: TextSink, redactor: Redactor): Writable {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, callback) {
      pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
      const lastNewline = pending.lastIndexOf("\n");
      if (lastNewline !== -1) {
        sink.write(redactor.redact(pending.slice(0, lastNewline + 1)));
        pending = pending.slice(lastNewline + 1);
      }
      callback();
    },
    final(callback) {
      pending += decoder.end();
      if (pending !== "") sink.write(redactor.redact(pending));
      pending = "";
      callback();
    },
  });
}
