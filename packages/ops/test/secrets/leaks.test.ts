// C-08: a planted token must appear in nothing these modules print, throw or return, except the
// flyctl stdin payload itself (the one place a value must go).
import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import { once } from "node:events";
import { parseSecretsFile } from "../../src/secrets/dotenv-dialect.ts";
import { fingerprintSecret } from "../../src/secrets/fingerprint.ts";
import { FlyImportParseError, parseFlyImport, serializeForFlyImport } from "../../src/secrets/fly-import-format.ts";
import { createRedactor, redactingWriter } from "../../src/secrets/redactor.ts";
import { Secret } from "../../src/secrets/secret.ts";

const TOKEN = "tok_live_PLACEHOLDER123456";

/** Every way a thrown error or a result could end up in a log. */
function renderings(thing: unknown): string[] {
  const out = [inspect(thing, { depth: Infinity, showHidden: true }), JSON.stringify(thing) ?? "", String(thing)];
  if (thing instanceof Error) out.push(thing.message, thing.stack ?? "", inspect(thing.cause, { depth: Infinity }));
  return out;
}

function expectNoToken(thing: unknown): void {
  for (const text of renderings(thing)) expect(text).not.toContain(TOKEN);
  // also not a recognisable part of it
  for (const text of renderings(thing)) expect(text).not.toContain("PLACEHOLDER");
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("C-08: the planted token never leaks", () => {
  it.each([
    ["a line without =", `A=1\n${TOKEN}\n`],
    ["an invalid key holding a URL", `postgres://u:${TOKEN}@h/db?sslmode=require\n`],
    ["a key with a dash", `API-TOKEN=${TOKEN}\n`],
    ["a duplicate key", `API_TOKEN=${TOKEN}\nAPI_TOKEN=${TOKEN}\n`],
    ["an unterminated double quote", `API_TOKEN="${TOKEN}\nB=1\n`],
    ["an unterminated triple quote", `API_TOKEN="""${TOKEN}\nB=1\n`],
    ["an unterminated single quote", `API_TOKEN='${TOKEN}\n`],
    ["an unknown escape", `API_TOKEN="${TOKEN}\\q"\n`],
    ["text after the closing quote", `API_TOKEN="${TOKEN}"${TOKEN}\n`],
    ["a NUL", `API_TOKEN=${TOKEN}\0\n`],
    ["bad UTF-8", Buffer.concat([Buffer.from(`API_TOKEN=${TOKEN}`), Buffer.from([0xc3, 0x28, 0x0a])])],
  ])("in the error for %s", (_name, file) => {
    const error = thrownBy(() => parseSecretsFile(file));
    expect(error).toBeInstanceOf(Error);
    expectNoToken(error);
  });

  it("in results and warnings of a successful parse (BOM, CRLF, multi-line, verbose logging)", () => {
    const file = `\uFEFFAPI_TOKEN=${TOKEN}\r\nCERT="${TOKEN}\r\nline2"\r\nURL=postgresql://u:${TOKEN}@h/db\r\n`;
    const result = parseSecretsFile(file);
    expect(result.entries.map((e) => e.key)).toEqual(["API_TOKEN", "CERT", "URL"]);
    expect(result.warnings).toHaveLength(2);
    expectNoToken(result);
    expectNoToken(result.warnings.join("\n"));
    expect(`${result.entries[0]?.value}`).toBe("[REDACTED]");
  });

  it("in serializer refusals", () => {
    for (const value of [`${TOKEN}\r`, `${TOKEN}\0`, `${TOKEN}"""\nx`, `x\n${TOKEN}"""\ny`, `${TOKEN}"#\nx`, TOKEN.repeat(3000)]) {
      const error = thrownBy(() => serializeForFlyImport([{ key: "API_TOKEN", value: new Secret(value) }]));
      expect((error as Error).message).toContain("API_TOKEN");
      expectNoToken(error);
    }
  });

  it("in the fingerprint", () => {
    expectNoToken(fingerprintSecret("API_TOKEN", new Secret(TOKEN), Buffer.alloc(32, 7)));
  });

  it("in output of a stand-in flyctl that echoes stdin and fails, once redacted (success and failure paths)", async () => {
    const entries = parseSecretsFile(`API_TOKEN=${TOKEN}\n`).entries;
    const payload = serializeForFlyImport(entries);
    expect(payload).toBe(`API_TOKEN=${TOKEN}\n`); // the one place the value must be
    const redactor = createRedactor(entries.map((e) => e.value));

    // Success path: the stand-in echoes what it read.
    const echoed =
      `read ${payload}` + `Updating existing machines with ${JSON.stringify(Object.fromEntries(parseFlyImport(payload).pairs))}\n`;
    expectNoToken(redactor.redact(echoed));

    // Failure path: flyctl's own parse error echoes the offending line.
    const failure = thrownBy(() => parseFlyImport(`${TOKEN}\n`));
    expect(failure).toBeInstanceOf(FlyImportParseError);
    expect((failure as Error).message).toContain(TOKEN); // flyctl really does this …
    expectNoToken(redactor.redact(`Error: ${(failure as Error).message}\n`)); // … so we redact it

    // Streaming through the line writer, split at awkward places.
    const written: string[] = [];
    const writer = redactingWriter({ write: (chunk) => written.push(chunk) }, redactor);
    const stream = `${echoed}Error: ${(failure as Error).message}\nstderr tail ${TOKEN.slice(0, 7)}`;
    for (let i = 0; i < stream.length; i += 5) writer.write(stream.slice(i, i + 5));
    writer.end();
    await once(writer, "finish");
    expect(written.join("")).not.toContain(TOKEN);
    expect(written.join("")).toContain("[REDACTED]");
  });
});
