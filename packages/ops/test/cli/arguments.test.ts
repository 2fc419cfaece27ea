import { describe, expect, it } from "vitest";
import { checkPositionals } from "../../src/cli/arguments.ts";
import { UsageError } from "../../src/errors.ts";

const secrets = { subcommands: { list: [], sync: [], rotate: ["KEY"] } };

function refusal(fn: () => void): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error("not refused");
}

describe("checkPositionals", () => {
  it("takes a declared sub-command with its arguments, or none (the default)", () => {
    expect(() => checkPositionals("secrets", secrets, [])).not.toThrow();
    expect(() => checkPositionals("secrets", secrets, ["sync"])).not.toThrow();
    expect(() => checkPositionals("secrets", secrets, ["rotate", "SESSION_SECRET"])).not.toThrow();
  });

  it("refuses an unknown sub-command, naming the near one and every one", () => {
    const err = refusal(() => checkPositionals("secrets", secrets, ["snyc"]));
    expect(err.message).toBe('unknown secrets command "snyc"; did you mean sync?');
    expect(err.fix).toBe("Use one of: secrets list, secrets sync, secrets rotate <KEY>.");
    expect(err.exitCode).toBe(2);
  });

  it("refuses an argument beyond the ones declared", () => {
    expect(refusal(() => checkPositionals("secrets", secrets, ["rotate", "A", "B"])).message).toBe('unexpected argument "B"');
    expect(refusal(() => checkPositionals("secrets", secrets, ["sync", "now"])).fix).toBe(
      "Use `secrets sync` (no arguments); flags start with --. See --help.",
    );
    expect(refusal(() => checkPositionals("rollback", {}, ["backend"])).message).toBe('unexpected argument "backend"');
    expect(() => checkPositionals("deploy", { arguments: ["app"] }, ["client"])).not.toThrow();
    expect(refusal(() => checkPositionals("deploy", { arguments: ["app"] }, ["client", "backend"])).fix).toBe(
      "Use `deploy <app>`; flags start with --. See --help.",
    );
  });
});
