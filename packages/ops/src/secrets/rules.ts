import type { OpsConfig } from "../config/schema.ts";
import type { Secret } from "./secret.ts";

/** A secret value that breaks its rule in `ops.config.ts` `secrets.rules` (the message never holds the value). */
export interface SecretRuleViolation {
  key: string;
  /** Apps that get the key. */
  apps: string[];
  message: string;
}

/**
 * Checks each value that has a rule (`secrets.rules.<KEY>`: `minLength`, `pattern`) and says what
 * is wrong by length and rule only, never by content.
 * @returns one violation per key that breaks its rule; [] when all pass (keys without a value are not checked here).
 */
export function secretRuleViolations(config: OpsConfig, values: ReadonlyMap<string, Secret>): SecretRuleViolation[] {
  const out: SecretRuleViolation[] = [];
  for (const [key, rule] of Object.entries(config.secrets.rules)) {
    const value = values.get(key)?.reveal();
    if (value === undefined) continue;
    const apps = config.deployOrder.filter((a) => config.apps[a]?.secrets.includes(key));
    const problems: string[] = [];
    if (rule.minLength !== undefined && value.length < rule.minLength)
      problems.push(`is ${value.length} characters long; it must be at least ${rule.minLength}`);
    if (rule.pattern !== undefined && !new RegExp(`^(?:${rule.pattern})$`, "u").test(value))
      problems.push(`does not match ${rule.hint ?? `/${rule.pattern}/`}`);
    if (problems.length) out.push({ key, apps, message: `${key} (given to ${apps.join(", ")}) ${problems.join(" and ")}` });
  }
  return out;
}
