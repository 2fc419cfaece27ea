import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readJson, writeJsonAtomic } from "../local/process-utils.ts";
import { fingerprintSecret } from "./fingerprint.ts";
import type { Secret } from "./secret.ts";

/** Fingerprints of one app's secrets: key → keyed hash (never the value). */
export type AppFingerprints = Record<string, string>;

/**
 * The fingerprint ledger of an environment, under `<stateDir>/ledger/<environment>/`: a random
 * HMAC key (mode 0600) and, per app, the fingerprints of the values last deployed. It tells
 * which secrets changed without storing or revealing any value.
 */
export class SecretLedger {
  private readonly dir: string;
  constructor(stateDir: string, environment: string) {
    this.dir = join(stateDir, "ledger", environment);
  }

  private key(create: boolean): Buffer {
    const path = join(this.dir, "ledger.key");
    // A dry run writes nothing: without a key yet, nothing was deployed to compare with either.
    if (!existsSync(path) && !create) return randomBytes(32);
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    }
    return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
  }

  /** Fingerprints of `values` restricted to `keys` (an app's declared secrets). `create: false` never writes the key file. */
  fingerprints(keys: readonly string[], values: Map<string, Secret>, opts: { create: boolean } = { create: true }): AppFingerprints {
    const k = this.key(opts.create);
    const out: AppFingerprints = {};
    for (const key of keys) {
      const v = values.get(key);
      if (v) out[key] = fingerprintSecret(key, v, k);
    }
    return out;
  }

  /** What was last deployed to `app` (empty before the first deploy). */
  deployed(app: string): AppFingerprints {
    return readJson<AppFingerprints>(join(this.dir, `${app}.json`)) ?? {};
  }

  /** The folder the ledger writes (for plans). */
  get folder(): string {
    return this.dir;
  }

  recordDeployed(app: string, fingerprints: AppFingerprints): void {
    writeJsonAtomic(join(this.dir, `${app}.json`), fingerprints, 0o600);
  }
}

/** Per key: `new`, `changed`, `unchanged`, or `removed` compared with what was deployed. */
export function diffFingerprints(
  deployed: AppFingerprints,
  next: AppFingerprints,
): Record<string, "new" | "changed" | "unchanged" | "removed"> {
  const out: Record<string, "new" | "changed" | "unchanged" | "removed"> = {};
  for (const [k, fp] of Object.entries(next)) out[k] = !(k in deployed) ? "new" : deployed[k] === fp ? "unchanged" : "changed";
  for (const k of Object.keys(deployed)) if (!(k in next)) out[k] = "removed";
  return out;
}
