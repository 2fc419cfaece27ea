import { describe, expect, it } from "vitest";
import { checkTurboTaskArgs } from "../../src/preflight/turbo-task-args.ts";

describe("checkTurboTaskArgs", () => {
  it("refuses arguments after -- that only production-deploy (the last task) would get, naming them and the variable to use", () => {
    const [r, ...more] = checkTurboTaskArgs(["run", "production-deploy", "--", "--dry-run"]);
    expect(more).toEqual([]);
    expect(r!.id).toBe("turbo.args");
    expect(r!.status).toBe("fail");
    expect(r!.message).toContain("`-- --dry-run` would reach only the task named on the command line");
    expect(r!.where).toBe("turbo run production-deploy -- --dry-run");
    expect(r!.fix).toContain("OPS_DRY_RUN=1 pnpm turbo run production-deploy");
  });

  it("refuses any flag there, with turbo's own flags before the --", () => {
    const [r] = checkTurboTaskArgs(["run", "production-deploy", "--filter", "client", "--", "--target", "fly"]);
    expect(r!.status).toBe("fail");
    expect(r!.message).toContain("`-- --target fly`");
  });

  it("says nothing for a run without arguments for the tasks, or without the wrapper's arguments at all", () => {
    expect(checkTurboTaskArgs(["run", "production-deploy"])).toEqual([]);
    expect(checkTurboTaskArgs(["run", "production-deploy", "--dry-run"])).toEqual([]);
    expect(checkTurboTaskArgs(["run", "production-deploy", "--"])).toEqual([]);
    expect(checkTurboTaskArgs(undefined)).toEqual([]);
  });

  it("lets the arguments through when preflight itself is a named task (it gets them)", () => {
    expect(checkTurboTaskArgs(["run", "production-preflight", "--", "--dry-run"])).toEqual([]);
    expect(checkTurboTaskArgs(["run", "@repo/scripts#production-preflight", "--", "--json"])).toEqual([]);
  });
});
