import type { OpsContext } from "../context.ts";
import type { Secret } from "./secret.ts";

/**
 * Teaches the redactor the values of `values` (key → value), except the keys the config declares
 * plain (`secrets.plain`: settings such as a database name, never masked).
 */
export function maskSecretValues(ctx: Pick<OpsContext, "addSecret" | "config">, values: ReadonlyMap<string, Secret>): void {
  const plain = new Set(ctx.config.secrets.plain);
  for (const [key, value] of values) if (!plain.has(key)) ctx.addSecret(value);
}
