import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretsError } from "../../src/errors.ts";
import { FLY_MAX_LINE_BYTES, parseFlyImport, serializeForFlyImport } from "../../src/secrets/fly-import-format.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { expectDocumentedRefusal, flyImportValue } from "./fly-import-values.ts";

function payloadFor(value: string, key = "K"): string {
  return serializeForFlyImport([{ key, value: new Secret(value) }]);
}

/** The value flyctl reads back for `key` from `payload`, after the payload went through a UTF-8 pipe. */
function flyReads(payload: string, key = "K"): string | undefined {
  return parseFlyImport(Buffer.from(payload, "utf8").toString("utf8")).pairs.get(key);
}

function refusal(value: string, key = "K"): SecretsError {
  try {
    payloadFor(value, key);
  } catch (error) {
    if (error instanceof SecretsError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("serializeForFlyImport: chosen forms", () => {
  it.each([
    ["plain", "K=plain\n"],
    ["", "K=\n"],
    ["hello world", "K=hello world\n"],
    ["$2b$10$abcdefghijklmnopqrstuv", "K=$2b$10$abcdefghijklmnopqrstuv\n"],
    ["a=b", "K=a=b\n"],
    ["\tleading tab", "K=\tleading tab\n"],
    ["trailing  ", "K=trailing  \n"],
    ['say "hi"', 'K=say "hi"\n'],
    ["a#b", 'K="a#b"\n'],
    ["  lead", 'K="  lead"\n'],
    [" ", 'K=" "\n'],
    ['"quoted"', 'K=""quoted""\n'],
    ["'quoted'", "K=\"'quoted'\"\n"],
    ["'", 'K="\'"\n'],
    ['"', "K='\"'\n"],
    ['a"#b', "K='a\"#b'\n"],
    ['"""abc', 'K=\'"""abc\'\n'],
    ['""#', 'K="""""#"""\n'],
    ['""', "K='\"\"'\n"],
    ["-----BEGIN X-----\nAAA\n-----END X-----\n", 'K="""-----BEGIN X-----\nAAA\n-----END X-----\n"""\n'],
    ["line one\nline two", 'K="""line one\nline two"""\n'],
  ])("%j → %j", (value, payload) => {
    expect(payloadFor(value)).toBe(payload);
    expect(flyReads(payload)).toBe(value);
  });

  it("writes entries in order, each ending with a newline, and a block never swallows the next entry", () => {
    const payload = serializeForFlyImport([
      { key: "A", value: new Secret("x\n") },
      { key: "B", value: new Secret("y") },
      { key: "C", value: new Secret('ends with quotes\n"""') },
      { key: "D", value: new Secret("z") },
    ]);
    expect(payload).toBe('A="""x\n"""\nB=y\nC="""ends with quotes\n""""""\nD=z\n');
    expect(Object.fromEntries(parseFlyImport(payload).pairs)).toEqual({ A: "x\n", B: "y", C: 'ends with quotes\n"""', D: "z" });
  });

  it('carries what the brief suspected it could not: lone quotes, leading """, leading tabs, a last line ending in """', () => {
    for (const value of ['"', "'", '"""', '"""x', "\tx", 'a\nb"""', 'a\n"', "\n", "\n\n", "#\n#"]) {
      expect(flyReads(payloadFor(value))).toBe(value);
    }
  });
});

describe("serializeForFlyImport: refusals name the key and the reason, never the value", () => {
  it.each([
    ["a\rb", /API_TOKEN .*carriage return/],
    ["abc\r", /API_TOKEN .*carriage return/],
    ["a\0b", /API_TOKEN .*NUL/],
    ["a\uD800b", /API_TOKEN .*unpaired UTF-16 surrogate/],
    ['first"""\nsecond', /API_TOKEN .*first line of the multi-line value ends with """/],
    ['"""\nsecond', /API_TOKEN .*first line of the multi-line value ends with """/],
    ['x"#y\nsecond', /API_TOKEN .*first line .* # after an odd number of "/],
    ['first\nmid"""\nlast', /API_TOKEN .*line 2 of the multi-line value ends with """/],
    ['first\n\n"""\nlast', /API_TOKEN .*line 3 of the multi-line value ends with """/],
  ])("%j", (value, message) => {
    const error = refusal(value, "API_TOKEN");
    expect(error.message).toMatch(message);
    expect(error.where).toBe("API_TOKEN");
    expect(error.fix).toBeTruthy();
  });

  it('proves each multi-line refusal: the only form that makes a newline, a """ block, is misread', () => {
    for (const value of ['first"""\nsecond', 'x"#y\nsecond', 'first\nmid"""\nlast']) {
      let read: string | undefined;
      try {
        read = flyReads(`K="""${value}"""\n`);
      } catch {
        read = undefined; // flyctl fails on the stray line
      }
      expect(read).not.toBe(value);
    }
  });

  it("refuses a payload line over 65,535 bytes, where flyctl silently stops reading", () => {
    expect(flyReads(payloadFor("x".repeat(FLY_MAX_LINE_BYTES - 2)))).toHaveLength(FLY_MAX_LINE_BYTES - 2);
    expect(refusal("x".repeat(FLY_MAX_LINE_BYTES - 1)).message).toMatch(
      /secret K to `fly secrets import`: line 1 of the entry would be longer than 65535 bytes/,
    );
    expect(refusal(`ok\n${"é".repeat(32_768)}\nok`).message).toMatch(/line 2 of the entry would be longer/);
    expect(flyReads(payloadFor(`ok\n${"x".repeat(FLY_MAX_LINE_BYTES)}`.slice(0, -3)))).toBeDefined();
  });

  it("refuses an invalid key without echoing it, a duplicate key, and an empty list", () => {
    const bad = () =>
      serializeForFlyImport([
        { key: "OK", value: new Secret("1") },
        { key: "postgres://u:pw@h", value: new Secret("1") },
      ]);
    expect(bad).toThrow("cannot send secret #2 to `fly secrets import`: its key does not match ^[A-Za-z_][A-Za-z0-9_]*$");
    expect(bad).not.toThrow(/pw@h/);
    expect(() => serializeForFlyImport([{ key: "export A", value: new Secret("1") }])).toThrow(SecretsError);
    expect(() =>
      serializeForFlyImport([
        { key: "A", value: new Secret("1") },
        { key: "A", value: new Secret("2") },
      ]),
    ).toThrow("cannot send secret A to `fly secrets import`: the key appears twice; flyctl would keep only the last value");
    expect(() => serializeForFlyImport([])).toThrow(/no secrets to send/);
  });
});

describe("serializeForFlyImport: round-trip property", () => {
  it("gives back exactly each of 5,000 generated values, or refuses naming the key", () => {
    let roundTripped = 0;
    let refused = 0;
    const batch: { key: string; value: Secret }[] = [];
    fc.sample(flyImportValue, { numRuns: 5000, seed: 20260821 }).forEach((value, i) => {
      const key = `KEY_${i}`;
      let payload: string;
      try {
        payload = payloadFor(value, key);
      } catch (error) {
        expectDocumentedRefusal(error, key);
        refused++;
        return;
      }
      expect(flyReads(payload, key), JSON.stringify(value)).toBe(value);
      batch.push({ key, value: new Secret(value) });
      roundTripped++;
    });
    // All accepted values together in one payload: no entry disturbs another.
    const all = parseFlyImport(serializeForFlyImport(batch));
    expect(all.pairs.size).toBe(batch.length);
    for (const { key, value } of batch) expect(all.pairs.get(key)).toBe(value.reveal());
    expect(roundTripped).toBeGreaterThan(4000);
    expect(refused).toBeGreaterThan(50);
  });
});
