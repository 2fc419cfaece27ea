import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import { SecretsError } from "../../src/errors.ts";
import { fingerprintSecret, generateSecretValue } from "../../src/secrets/fingerprint.ts";
import { parseFlyImport, serializeForFlyImport } from "../../src/secrets/fly-import-format.ts";
import { Secret } from "../../src/secrets/secret.ts";

const LEDGER_KEY = Buffer.alloc(32, 1);
const TOKEN = new Secret("tok_live_PLACEHOLDER123456");

describe("fingerprintSecret", () => {
  // Expected values computed independently: python3 hmac.new(bytes([1]*32), b"API_TOKEN\0tok_live_…", sha256).hexdigest()[:16]
  it("is HMAC-SHA256(ledgerKey, key + NUL + value), hex, first 16 characters", () => {
    expect(fingerprintSecret("API_TOKEN", TOKEN, LEDGER_KEY)).toBe("38e4c15669411d04");
    expect(fingerprintSecret("K", new Secret("café\n🔑"), LEDGER_KEY)).toBe("bdfaff8382d6c266");
  });

  it("depends on the key name and on the ledger key", () => {
    expect(fingerprintSecret("OTHER_TOKEN", TOKEN, LEDGER_KEY)).toBe("cc2feca943c2a445");
    expect(fingerprintSecret("API_TOKEN", TOKEN, Buffer.alloc(32, 2))).toBe("dc918e2900bd72c5");
  });

  it("refuses a short ledger key and a key with NUL", () => {
    expect(() => fingerprintSecret("A", TOKEN, Buffer.alloc(15))).toThrow(SecretsError);
    expect(() => fingerprintSecret("A", TOKEN, Buffer.alloc(15))).toThrow("the ledger key is 15 bytes; it must be at least 16");
    expect(() => fingerprintSecret("A\0B", TOKEN, LEDGER_KEY)).toThrow(SecretsError);
  });
});

describe("generateSecretValue", () => {
  it("gives 32 random bytes as base64url by default (43 characters), never shown by accident", () => {
    const a = generateSecretValue();
    const b = generateSecretValue();
    expect(a.reveal()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.reveal(), "base64url")).toHaveLength(32);
    expect(a.reveal()).not.toBe(b.reveal());
    expect(`${a}`).toBe("[REDACTED]");
    expect(inspect({ a })).toBe("{ a: [REDACTED] }");
  });

  it("takes a byte count of at least 16", () => {
    expect(generateSecretValue(16).reveal()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(() => generateSecretValue(15)).toThrow(SecretsError);
    expect(() => generateSecretValue(20.5)).toThrow(SecretsError);
  });

  it("makes values flyctl carries as plain KEY=value", () => {
    const value = generateSecretValue();
    const payload = serializeForFlyImport([{ key: "SESSION_SECRET", value }]);
    expect(payload).toBe(`SESSION_SECRET=${value.reveal()}\n`);
    expect(parseFlyImport(payload).pairs.get("SESSION_SECRET")).toBe(value.reveal());
  });
});
