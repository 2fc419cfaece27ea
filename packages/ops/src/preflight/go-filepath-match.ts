/**
 * Go's `path/filepath.Match` on Unix, which Docker uses for the wildcards of a local COPY/ADD
 * source (Dockerfile reference, COPY). A step-by-step port of Go's src/path/filepath/match.go,
 * on UTF-8 bytes as Go works; test/preflight/copy-wildcards.test.ts compares it with Go itself.
 * Written by hand: npm's glob matchers (picomatch, minimatch) follow shell rules instead (braces,
 * extglobs, `[!...]`, dotfiles), which read some patterns differently.
 */

/** What Go answers: a match or not, or `bad` for a malformed pattern (`filepath.ErrBadPattern`). */
export type GoMatch = { matched: boolean; bad?: false } | { matched: false; bad: true };

const SEPARATOR = 0x2f; // '/'
const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const OPEN = 0x5b; // '['
const CLOSE = 0x5d; // ']'
const CARET = 0x5e;
const DASH = 0x2d;
const RUNE_ERROR = 0xfffd;

class BadPattern extends Error {}

/** Go's utf8.DecodeRune: the rune at the start of `b` and its length; (U+FFFD, 1) for an invalid or cut sequence. */
function decodeRune(b: Uint8Array): [number, number] {
  const b0 = b[0]!;
  if (b0 < 0x80) return [b0, 1];
  const cont = (i: number, lo = 0x80, hi = 0xbf) => b[i] !== undefined && b[i]! >= lo && b[i]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf && cont(1)) return [((b0 & 0x1f) << 6) | (b[1]! & 0x3f), 2];
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const [lo, hi] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    if (cont(1, lo, hi) && cont(2)) return [((b0 & 0x0f) << 12) | ((b[1]! & 0x3f) << 6) | (b[2]! & 0x3f), 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [lo, hi] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    if (cont(1, lo, hi) && cont(2) && cont(3))
      return [((b0 & 0x07) << 18) | ((b[1]! & 0x3f) << 12) | ((b[2]! & 0x3f) << 6) | (b[3]! & 0x3f), 4];
  }
  return [RUNE_ERROR, 1];
}

function scanChunk(pattern: Uint8Array): { star: boolean; chunk: Uint8Array; rest: Uint8Array } {
  let star = false;
  while (pattern.length > 0 && pattern[0] === STAR) {
    pattern = pattern.subarray(1);
    star = true;
  }
  let inrange = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === BACKSLASH) {
      if (i + 1 < pattern.length) i++;
    } else if (c === OPEN) inrange = true;
    else if (c === CLOSE) inrange = false;
    else if (c === STAR && !inrange) return { star, chunk: pattern.subarray(0, i), rest: pattern.subarray(i) };
  }
  return { star, chunk: pattern, rest: new Uint8Array(0) };
}

function getEsc(chunk: Uint8Array): [number, Uint8Array] {
  if (chunk.length === 0 || chunk[0] === DASH || chunk[0] === CLOSE) throw new BadPattern();
  if (chunk[0] === BACKSLASH) {
    chunk = chunk.subarray(1);
    if (chunk.length === 0) throw new BadPattern();
  }
  const [r, n] = decodeRune(chunk);
  if (r === RUNE_ERROR && n === 1) throw new BadPattern();
  const rest = chunk.subarray(n);
  if (rest.length === 0) throw new BadPattern();
  return [r, rest];
}

/** The rest of `s` after `chunk` matched its start, or `undefined`; throws BadPattern as Go returns ErrBadPattern. */
function matchChunk(chunk: Uint8Array, s: Uint8Array): Uint8Array | undefined {
  let failed = false;
  while (chunk.length > 0) {
    failed = failed || s.length === 0;
    const c = chunk[0];
    if (c === OPEN) {
      let r = -1;
      if (!failed) {
        const [rune, n] = decodeRune(s);
        r = rune;
        s = s.subarray(n);
      }
      chunk = chunk.subarray(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === CARET) {
        negated = true;
        chunk = chunk.subarray(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === CLOSE && nrange > 0) {
          chunk = chunk.subarray(1);
          break;
        }
        let lo: number;
        let hi: number;
        [lo, chunk] = getEsc(chunk);
        hi = lo;
        if (chunk[0] === DASH) [hi, chunk] = getEsc(chunk.subarray(1));
        match = match || (lo <= r && r <= hi);
        nrange++;
      }
      failed = failed || match === negated;
    } else if (c === QUESTION) {
      if (!failed) {
        failed = s[0] === SEPARATOR;
        s = s.subarray(decodeRune(s)[1]);
      }
      chunk = chunk.subarray(1);
    } else {
      if (c === BACKSLASH) {
        chunk = chunk.subarray(1);
        if (chunk.length === 0) throw new BadPattern();
      }
      if (!failed) {
        failed = chunk[0] !== s[0];
        s = s.subarray(1);
      }
      chunk = chunk.subarray(1);
    }
  }
  return failed ? undefined : s;
}

/** Whether `name` matches the shell pattern `pattern` by Go's `filepath.Match` (`*` and `?` never cross `/`). */
export function goFilepathMatch(pattern: string, name: string): GoMatch {
  let p: Uint8Array = new TextEncoder().encode(pattern);
  let n: Uint8Array = new TextEncoder().encode(name);
  try {
    outer: while (p.length > 0) {
      const { star, chunk, rest } = scanChunk(p);
      p = rest;
      if (star && chunk.length === 0) return { matched: !n.includes(SEPARATOR) };
      const t = matchChunk(chunk, n);
      if (t !== undefined && (t.length === 0 || p.length > 0)) {
        n = t;
        continue;
      }
      if (star) {
        for (let i = 0; i < n.length && n[i] !== SEPARATOR; i++) {
          const t2 = matchChunk(chunk, n.subarray(i + 1));
          if (t2 !== undefined) {
            if (p.length === 0 && t2.length > 0) continue;
            n = t2;
            continue outer;
          }
        }
      }
      return { matched: false };
    }
    return { matched: n.length === 0 };
  } catch (err) {
    if (err instanceof BadPattern) return { matched: false, bad: true };
    throw err;
  }
}
