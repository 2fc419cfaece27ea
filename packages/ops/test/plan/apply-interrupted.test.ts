import { describe, expect, it } from "vitest";
import type { OpsContext } from "../../src/context.ts";
import { InterruptedError } from "../../src/errors.ts";
import { createReporter } from "../../src/output/reporter.ts";
import { createRedactor } from "../../src/secrets/redactor.ts";
import { action, applyPlan } from "../../src/plan/plan.ts";

describe("applyPlan after an interrupt", () => {
  it("finishes the action under way and starts no other", async () => {
    let signal: NodeJS.Signals | undefined;
    const ctx = {
      reporter: createReporter({ json: true, redactor: createRedactor([]), write: () => undefined }),
      interruptedBy: () => signal,
    } as unknown as OpsContext;
    const ran: string[] = [];
    const applying = applyPlan(ctx, {
      step: "deploy client",
      actions: [
        action("wait", "health wait", async () => {
          // Ctrl-C arrives while this action runs.
          signal = "SIGINT";
          ran.push("health wait");
        }),
        action("process", "switch traffic", () => ran.push("switch traffic")),
      ],
    });
    await expect(applying).rejects.toBeInstanceOf(InterruptedError);
    await expect(applying).rejects.toThrow("interrupted by SIGINT");
    expect(ran).toEqual(["health wait"]);
  });
});
