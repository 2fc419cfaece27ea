// secrets.rules: length and pattern rules say what is wrong without the value; rules for keys no
// app gets are refused when the config loads.
import { describe, expect, it } from "vitest";
import repoConfig from "../../../../ops.config.ts";
import { parseOpsConfig } from "../../src/config/load.ts";
import { secretRuleViolations } from "../../src/secrets/rules.ts";
import { Secret } from "../../src/secrets/secret.ts";

const withRules = (rules: Record<string, unknown>) =>
  parseOpsConfig({ ...repoConfig, secrets: { ...repoConfig.secrets, rules } } as typeof repoConfig);

describe("secretRuleViolations", () => {
  it("names the key, its apps, the length and the pattern's hint, never the value", () => {
    const config = withRules({ BACKEND_AUTH_TOKEN: { minLength: 20, pattern: "[A-Za-z0-9]+", hint: "letters and digits only" } });
    const v = secretRuleViolations(config, new Map([["BACKEND_AUTH_TOKEN", new Secret("abc-def")]]));
    expect(v).toEqual([
      {
        key: "BACKEND_AUTH_TOKEN",
        apps: ["backend", "client"],
        message:
          "BACKEND_AUTH_TOKEN (given to backend, client) is 7 characters long; it must be at least 20 and does not match letters and digits only",
      },
    ]);
    expect(secretRuleViolations(config, new Map([["BACKEND_AUTH_TOKEN", new Secret("a".repeat(20))]]))).toEqual([]);
  });

  it("refuses a rule for a key no app gets, with did-you-mean", () => {
    expect(() => withRules({ SESION_SECRET: { minLength: 32 } })).toThrow(/secrets\.rules\.SESION_SECRET: .*did you mean SESSION_SECRET/);
  });
});
