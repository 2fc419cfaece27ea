import { describe, expect, it } from "vitest";
import { once } from "node:events";
import { createRedactor, redactingWriter } from "../../src/secrets/redactor.ts";
import { Secret } from "../../src/secrets/secret.ts";

const TOKEN = "tok_live_PLACEHOLDER123456";

describe("createRedactor", () => {
  it("replaces every occurrence of every known value (C-08)", () => {
    const redactor = createRedactor([new Secret(TOKEN), "other-secret"]);
    expect(redactor.redact(`a ${TOKEN} b ${TOKEN}other-secret c`)).toBe("a [REDACTED] b [REDACTED] c");
    expect(redactor.redact("nothing here")).toBe("nothing here");
  });

  it("ignores values shorter than 4 characters", () => {
    const redactor = createRedactor(["1", "dev", "abcd"]);
    expect(redactor.redact("dev 1 abcd")).toBe("dev 1 [REDACTED]");
  });

  it("never half-masks a value when values overlap", () => {
    const redactor = createRedactor(["xxab", "abcd1234", "long"]);
    expect(redactor.redact("xxabcd1234 the secret-long")).toBe("[REDACTED] the secret-[REDACTED]");
    const nested = createRedactor(["secret-long-value", "long"]);
    expect(nested.redact("=secret-long-value=")).toBe("=[REDACTED]=");
  });

  it("learns values added later", () => {
    const redactor = createRedactor();
    expect(redactor.redact(TOKEN)).toBe(TOKEN);
    redactor.add(new Secret(TOKEN));
    expect(redactor.redact(`x${TOKEN}x`)).toBe("x[REDACTED]x");
  });

  it("masks each line of 8+ characters of a multi-line value", () => {
    const cert = "-----BEGIN X-----\n  AAAAAAAAAAAA  \nBB\n-----END X-----\n";
    const redactor = createRedactor([cert]);
    expect(redactor.redact(cert)).toBe("[REDACTED]");
    expect(redactor.redact("got AAAAAAAAAAAA and BB")).toBe("got [REDACTED] and BB");
    expect(redactor.redact(JSON.stringify({ cert }))).toBe('{"cert":"[REDACTED]"}');
  });

  it("masks the URL-encoded and JSON-escaped forms", () => {
    const redactor = createRedactor(["p@ss word/+x", 'quo"te\\d']);
    expect(redactor.redact("a=p%40ss%20word%2F%2Bx b=p%40ss+word%2F%2Bx")).toBe("a=[REDACTED] b=[REDACTED]");
    expect(redactor.redact(JSON.stringify({ v: 'quo"te\\d' }))).toBe('{"v":"[REDACTED]"}');
  });

  it("masks the password of a URL held in a value, raw and decoded", () => {
    const redactor = createRedactor(["postgresql://app:s3cr%40t@db.internal:5432/app"]);
    expect(redactor.redact("password s3cr@t / s3cr%40t")).toBe("password [REDACTED] / [REDACTED]");
  });

  it("masks the password of any scheme://user:password@ URL, known or not", () => {
    const redactor = createRedactor();
    expect(redactor.redact("connect postgresql://u:hunter2@host:5432/db failed")).toBe(
      "connect postgresql://u:[REDACTED]@host:5432/db failed",
    );
    expect(redactor.redact("redis://:p@ss@cache/0 and https://user@host/ and https://host:8080/x")).toBe(
      "redis://:[REDACTED]@cache/0 and https://user@host/ and https://host:8080/x",
    );
  });
});

describe("redactingWriter", () => {
  async function run(chunks: (string | Buffer)[], secrets: string[]): Promise<string[]> {
    const written: string[] = [];
    const writer = redactingWriter({ write: (chunk) => written.push(chunk) }, createRedactor(secrets));
    for (const chunk of chunks) writer.write(chunk);
    writer.end();
    await once(writer, "finish");
    return written;
  }

  it("writes only redacted complete lines, holding a value split across chunks", async () => {
    expect(await run(["first tok_live_PLACE", "HOLDER123456 end\nsecond ", "line\nlast ", TOKEN], [TOKEN])).toEqual([
      "first [REDACTED] end\n",
      "second line\n",
      "last [REDACTED]",
    ]);
  });

  it("decodes UTF-8 split inside a character", async () => {
    const bytes = Buffer.from(`é ${TOKEN}\n`);
    expect(await run([bytes.subarray(0, 1), bytes.subarray(1)], [TOKEN])).toEqual(["é [REDACTED]\n"]);
  });

  it("masks a multi-line value whose lines arrive together", async () => {
    const value = "line-one-secret\nline-two-secret";
    expect(await run([`x ${value} y\n`], [value])).toEqual(["x [REDACTED] y\n"]);
  });
});
