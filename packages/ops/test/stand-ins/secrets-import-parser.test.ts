// The stand-in's own `fly secrets import` reader, checked against the examples flyctl documents and
// its parser_test.go covers (internal/command/secrets/parser.go, v0.4.87).
import { describe, expect, it } from "vitest";
import { FlyError, GoPanic } from "../fixtures/flyctl/errors.ts";
import { parseSecretsImport } from "../fixtures/flyctl/secrets-import-parser.ts";

const read = (text: string | Buffer) => Object.fromEntries(parseSecretsImport(Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8")));

describe("parseSecretsImport (the stand-in's reading of flyctl's importer)", () => {
  it.each([
    ["A=1\nB=two words\n", { A: "1", B: "two words" }],
    ["A=1\r\nB=2\r\n", { A: "1", B: "2" }],
    ["# comment\n\n   \nA=1", { A: "1" }],
    ["  A  =   x  ", { A: "x  " }],
    ["A=\tx", { A: "\tx" }],
    ["P=ab#c", { P: "ab" }],
    ["P=ab   # note", { P: "ab" }],
    ['P="a # b"', { P: "a # b" }],
    ["P='a#b'", { P: "'a" }],
    ['P="quoted"', { P: "quoted" }],
    ["P='quoted'", { P: "quoted" }],
    ['P=""x""', { P: '"x"' }],
    ["P=a\\nb", { P: "a\\nb" }],
    ["P=a=b=c", { P: "a=b=c" }],
    ['P="""one line"""', { P: "one line" }],
    ['P="""first\n  second # kept\nlast"""\nQ=1', { P: "first\n  second # kept\nlast", Q: "1" }],
    ['P="""first\nsecond\n"""', { P: "first\nsecond\n" }],
    ['P="""never closed\nQ=1\n', {}],
    ["A=1\nA=2", { A: "2" }],
    ["FOO=", { FOO: "" }],
    ["  # not a comment line=x", { "# not a comment line": "x" }],
  ])("%j → %j", (input, expected) => {
    expect(read(input)).toEqual(expected);
  });

  it("echoes a line without = in flyctl's error", () => {
    expect(() => read("A=1\njust text\n")).toThrow(
      new FlyError("Failed to parse secrets from stdin: Secrets must be provided as NAME=VALUE pairs (just text is invalid)"),
    );
  });

  it.each(['P="', "P='", 'P=  "'])("panics on a lone quote value: %j", (input) => {
    expect(() => read(input)).toThrow(GoPanic);
  });

  it("stops silently at a line that does not fit the scanner's 64 KiB buffer", () => {
    const fits = `A=${"x".repeat(64 * 1024 - 3)}`; // 65,535 bytes, plus its newline
    expect(read(`${fits}\nB=1\n`)).toEqual({ A: "x".repeat(64 * 1024 - 3), B: "1" });
    const tooLong = `A=${"x".repeat(64 * 1024 - 2)}`;
    expect(read(`B=1\n${tooLong}\nC=1\n`)).toEqual({ B: "1" });
  });

  it("counts the line limit in UTF-8 bytes, not characters", () => {
    const line = `A=${"é".repeat(32 * 1024)}`; // 65,538 bytes, 32,770 characters
    expect(read(`${line}\nB=1`)).toEqual({});
  });
});
