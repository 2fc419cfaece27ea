import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffFingerprints, SecretLedger } from "../../src/secrets/ledger.ts";
import { Secret } from "../../src/secrets/secret.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-ledger-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const values = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, new Secret(v)]));
const VALUES = values({ SESSION_SECRET: "session-value-1", BACKEND_AUTH_TOKEN: "token-value-1", DATABASE_URL: "postgresql://u:pw@h/app" });

describe("SecretLedger", () => {
  it("fingerprints only the asked keys that have values, as 16 hex characters", () => {
    const ledger = new SecretLedger(dir, "production");
    const fp = ledger.fingerprints(["SESSION_SECRET", "BACKEND_AUTH_TOKEN", "NOT_GIVEN"], VALUES);
    expect(Object.keys(fp)).toEqual(["SESSION_SECRET", "BACKEND_AUTH_TOKEN"]);
    for (const v of Object.values(fp)) expect(v).toMatch(/^[0-9a-f]{16}$/);
    expect(fp.SESSION_SECRET).not.toBe(fp.BACKEND_AUTH_TOKEN);
  });

  it("keeps a random 0600 key, so fingerprints are stable across instances", () => {
    const a = new SecretLedger(dir, "production").fingerprints(["SESSION_SECRET"], VALUES);
    const keyFile = join(dir, "ledger", "production", "ledger.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8")).toMatch(/^[0-9a-f]{64}$/);
    expect(new SecretLedger(dir, "production").fingerprints(["SESSION_SECRET"], VALUES)).toEqual(a);
    // another value changes it
    expect(new SecretLedger(dir, "production").fingerprints(["SESSION_SECRET"], values({ SESSION_SECRET: "session-value-2" }))).not.toEqual(
      a,
    );
  });

  it("each environment has its own key", () => {
    const prod = new SecretLedger(dir, "production").fingerprints(["SESSION_SECRET"], VALUES);
    const staging = new SecretLedger(dir, "staging").fingerprints(["SESSION_SECRET"], VALUES);
    expect(readFileSync(join(dir, "ledger", "production", "ledger.key"), "utf8")).not.toBe(
      readFileSync(join(dir, "ledger", "staging", "ledger.key"), "utf8"),
    );
    expect(prod.SESSION_SECRET).not.toBe(staging.SESSION_SECRET);
  });

  it("records what was deployed per app, 0600, without any value", () => {
    const ledger = new SecretLedger(dir, "production");
    expect(ledger.deployed("client")).toEqual({});
    const fp = ledger.fingerprints(["SESSION_SECRET", "BACKEND_AUTH_TOKEN"], VALUES);
    ledger.recordDeployed("client", fp);
    expect(ledger.deployed("client")).toEqual(fp);
    expect(new SecretLedger(dir, "production").deployed("client")).toEqual(fp);
    expect(ledger.deployed("backend")).toEqual({});
    const file = join(dir, "ledger", "production", "client.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const name of readdirSync(join(dir, "ledger", "production"))) {
      const text = readFileSync(join(dir, "ledger", "production", name), "utf8");
      for (const v of ["session-value-1", "token-value-1", "pw@h"]) expect(text).not.toContain(v);
    }
  });

  it("creates nothing until it fingerprints", () => {
    const ledger = new SecretLedger(dir, "production");
    expect(ledger.deployed("client")).toEqual({});
    expect(existsSync(join(dir, "ledger"))).toBe(false);
  });
});

describe("diffFingerprints", () => {
  it("says new, changed, unchanged and removed per key", () => {
    expect(diffFingerprints({ A: "1111", B: "2222", C: "3333" }, { A: "1111", B: "9999", D: "4444" })).toEqual({
      A: "unchanged",
      B: "changed",
      D: "new",
      C: "removed",
    });
    expect(diffFingerprints({}, {})).toEqual({});
    expect(diffFingerprints({}, { A: "1" })).toEqual({ A: "new" });
  });

  it("end to end: a rotated value shows as changed, the rest unchanged", () => {
    const ledger = new SecretLedger(dir, "production");
    const keys = ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"];
    ledger.recordDeployed("client", ledger.fingerprints(keys, VALUES));
    const rotated = values({ SESSION_SECRET: "session-value-2", BACKEND_AUTH_TOKEN: "token-value-1" });
    expect(diffFingerprints(ledger.deployed("client"), ledger.fingerprints(keys, rotated))).toEqual({
      SESSION_SECRET: "changed",
      BACKEND_AUTH_TOKEN: "unchanged",
    });
  });
});
