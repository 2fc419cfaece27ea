import type { Secret } from "./secret.ts";
import type { LedgerRow } from "../db/secret-ledger.ts";

/** How one key of one app compares with what Fly has and what this tool last pushed. */
export type KeyChange =
  /** Not on Fly yet. */
  | "new"
  /** The value differs from what this tool last pushed. */
  | "changed"
  /** Fly's digest moved since our push: someone set it outside this tool; pushed again. */
  | "changed-outside"
  /** On Fly, but this tool has no record of pushing it; pushed so the ledger knows it. */
  | "unknown"
  | "unchanged";

/** A secret as `flyctl secrets list --json` prints it since v0.4.6 (flyctl `internal/command/secrets/list.go`; superfly/flyctl#4722). */
export interface FlySecretListing {
  name: string;
  digest: string;
  status?: string;
}

/**
 * Decides, per declared key, whether it must be pushed, from fingerprints only (never values):
 * our fingerprint of the value now, the ledger row of our last push (fingerprint + the digest Fly
 * reported then), and Fly's digest now. Fly's digest is opaque (computed by Fly's API, never by flyctl): only compared for equality.
 */
export function classifyKeys(
  keys: readonly string[],
  fingerprints: Record<string, string>,
  ledger: Map<string, LedgerRow>,
  onFly: FlySecretListing[],
): Record<string, KeyChange> {
  const fly = new Map(onFly.map((s) => [s.name, s]));
  const out: Record<string, KeyChange> = {};
  for (const key of keys) {
    const listed = fly.get(key);
    const row = ledger.get(key);
    if (!listed) out[key] = "new";
    else if (!row) out[key] = "unknown";
    else if (row.flyDigest !== null && row.flyDigest !== listed.digest) out[key] = "changed-outside";
    else if (row.fingerprint !== fingerprints[key]) out[key] = "changed";
    else out[key] = "unchanged";
  }
  return out;
}

/** Keys that must be pushed. */
export const keysToPush = (changes: Record<string, KeyChange>) =>
  Object.entries(changes)
    .filter(([, c]) => c !== "unchanged")
    .map(([k]) => k);

/** Entries for `serializeForFlyImport`, in declaration order. */
export function importEntries(keys: readonly string[], values: Map<string, Secret>): { key: string; value: Secret }[] {
  return keys.map((key) => ({ key, value: values.get(key)! }));
}
