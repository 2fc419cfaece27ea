/**
 * Fingerprints of secret values, for noticing "this value changed" without storing the value, and
 * generation of new random secret values.
 *
 * The fingerprint is keyed (HMAC) rather than a plain hash: many secrets have little entropy
 * (a short password, a 6-digit PIN, a value that is one of a few known strings), and a plain
 * SHA-256 of such a value can be brute-forced from a ledger or log that shows the hash. Without
 * the ledger key, an HMAC fingerprint tells an attacker nothing. Fly's own 16-hex digest is opaque
 * and computed by its server (flyctl only prints the `digest` the Machines API returns: fly-go
 * `flaps/flaps_secrets.go`, `AppSecret.Digest`), so it is not reproduced here.
 */
import { createHmac, randomBytes } from "node:crypto";
import { SecretsError } from "../errors.ts";
import { Secret } from "./secret.ts";

/** Minimum size of a ledger key, in bytes (128 bits). */
export const MIN_LEDGER_KEY_BYTES = 16;

/** Minimum number of random bytes {@link generateSecretValue} accepts (128 bits). */
export const MIN_GENERATED_BYTES = 16;

/**
 * The fingerprint of one secret: HMAC-SHA256(ledgerKey, key + "\0" + value), as lowercase hex,
 * cut to its first 16 characters (64 bits: plenty to notice a change, too short to be a useful
 * stand-in for the value). The key is part of the input, so equal values under different keys
 * get different fingerprints.
 *
 * @param key the secret's name; it must not contain NUL (NUL separates key and value).
 * @param ledgerKey a random key of at least {@link MIN_LEDGER_KEY_BYTES} bytes, kept as a secret itself.
 * @returns 16 lowercase hex characters.
 * @throws {SecretsError} when `key` contains NUL or `ledgerKey` is shorter than 16 bytes.
 */
export function fingerprintSecret(key: string, value: Secret, ledgerKey: Buffer): string {
  if (key.includes("\0")) {
    throw new SecretsError("a secret key passed to fingerprintSecret contains NUL", {
      fix: "Use a key matching ^[A-Za-z_][A-Za-z0-9_]*$.",
    });
  }
  if (ledgerKey.length < MIN_LEDGER_KEY_BYTES) {
    throw new SecretsError(`the ledger key is ${ledgerKey.length} bytes; it must be at least ${MIN_LEDGER_KEY_BYTES}`, {
      fix: "Generate it with crypto.randomBytes(32).",
    });
  }
  return createHmac("sha256", ledgerKey).update(`${key}\0${value.reveal()}`, "utf8").digest("hex").slice(0, 16);
}

/**
 * A new random secret value: `bytes` bytes from `crypto.randomBytes`, as base64url without padding
 * (43 characters for the default 32 bytes; safe in URLs, env vars and the flyctl import format).
 *
 * @param bytes number of random bytes. @default 32
 * @throws {SecretsError} when `bytes` is not an integer of at least {@link MIN_GENERATED_BYTES}.
 */
export function generateSecretValue(bytes = 32): Secret {
  if (!Number.isInteger(bytes) || bytes < MIN_GENERATED_BYTES) {
    throw new SecretsError(`generateSecretValue needs an integer of at least ${MIN_GENERATED_BYTES} bytes, got ${bytes}`, {
      fix: "Use the default of 32 bytes.",
    });
  }
  return new Secret(randomBytes(bytes).toString("base64url"));
}
