// The library's `fly secrets import` payload read back by the flyctl stand-in's own parser (written
// from flyctl's documented rules, not from the library): every generated value arrives exactly, or
// the library refuses it up front naming only the key.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretsError } from "../../src/errors.ts";
import { serializeForFlyImport } from "../../src/secrets/fly-import-format.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { parseSecretsImport } from "../fixtures/flyctl/secrets-import-parser.ts";
import { expectDocumentedRefusal, flyImportValue } from "./fly-import-values.ts";

/** What the stand-in flyctl stores from the library's payload, after a UTF-8 pipe. */
function standInReads(entries: { key: string; value: string }[]): Map<string, string> {
  const payload = serializeForFlyImport(entries.map((e) => ({ key: e.key, value: new Secret(e.value) })));
  return parseSecretsImport(Buffer.from(payload, "utf8"));
}

describe("serializeForFlyImport → the stand-in's flyctl parser", () => {
  it("round-trips each generated value, or refuses it for a documented reason without echoing it", () => {
    let accepted = 0;
    fc.assert(
      fc.property(flyImportValue, (v) => {
        let read: Map<string, string>;
        try {
          read = standInReads([{ key: "K", value: v }]);
        } catch (error) {
          expectDocumentedRefusal(error, "K");
          return;
        }
        accepted++;
        expect([...read]).toEqual([["K", v]]);
      }),
      { numRuns: 3000, seed: 20261204 },
    );
    expect(accepted).toBeGreaterThan(2000);
  });

  it("keeps every accepted value of a large batch apart in one payload", () => {
    fc.assert(
      fc.property(fc.array(flyImportValue, { minLength: 1, maxLength: 40 }), (values) => {
        const entries = values
          .map((v, i) => ({ key: `KEY_${i}`, value: v }))
          .filter((e) => {
            try {
              serializeForFlyImport([{ key: e.key, value: new Secret(e.value) }]);
              return true;
            } catch (error) {
              if (error instanceof SecretsError) return false;
              throw error;
            }
          });
        fc.pre(entries.length > 0);
        expect(Object.fromEntries(standInReads(entries))).toEqual(Object.fromEntries(entries.map((e) => [e.key, e.value])));
      }),
      { numRuns: 300, seed: 4 },
    );
  });
});
