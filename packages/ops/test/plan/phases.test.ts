import { describe, expect, it } from "vitest";
import { action } from "../../src/plan/plan.ts";
import { PhaseTimer, phasesOf } from "../../src/plan/phases.ts";

describe("PhaseTimer", () => {
  it("records each timed action as a phase, in the order they ran, with its start and outcome", async () => {
    const timer = new PhaseTimer();
    const order: string[] = [];
    const [copy, start] = timer.timeEach(
      ["copy", "start"],
      [action("file", "copy", () => order.push("copy")), action("process", "start", () => order.push("start"))],
    );
    const before = Date.now();
    await copy!.apply();
    await start!.apply();
    expect(order).toEqual(["copy", "start"]);
    expect(timer.phases.map((p) => [p.phase, p.ok])).toEqual([
      ["copy", true],
      ["start", true],
    ]);
    for (const p of timer.phases) {
      expect(Date.parse(p.startedAt)).toBeGreaterThanOrEqual(before - 1);
      expect(p.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(Date.parse(timer.phases[1]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(timer.phases[0]!.startedAt));
  });

  it("keeps what the action is: kind, description and argv are unchanged, so a dry run prints the same plan", () => {
    const a = action("process", "start client", () => 1, { argv: ["node", "server.js"], envKeys: ["PORT"] });
    const { apply: _a, ...timed } = new PhaseTimer().time("start", a);
    const { apply: _b, ...plain } = a;
    expect(timed).toEqual(plain);
  });

  it("a failing action is recorded as a failed phase and its error goes on", async () => {
    const timer = new PhaseTimer();
    const wait = timer.time(
      "health wait",
      action("wait", "health", () => {
        throw new Error("not healthy in time");
      }),
    );
    await expect(wait.apply()).rejects.toThrow("not healthy in time");
    expect(timer.phases.map((p) => [p.phase, p.ok])).toEqual([["health wait", false]]);
  });

  it("next() splits one action into two phases (switch, then stop old); outside an action it does nothing", async () => {
    const timer = new PhaseTimer();
    timer.next("ignored");
    const sw = timer.time(
      "switch",
      action("process", "switch", () => timer.next("stop old")),
    );
    await sw.apply();
    expect(timer.phases.map((p) => [p.phase, p.ok])).toEqual([
      ["switch", true],
      ["stop old", true],
    ]);
  });

  it("phasesOf reads the phases of a step's detail, and [] from a detail without (valid) ones", () => {
    const phases = [{ phase: "copy", startedAt: "2026-12-07T09:00:00.000Z", durationMs: 12, ok: true }];
    expect(phasesOf({ app: "client", phases })).toEqual(phases);
    expect(phasesOf({ app: "client" })).toEqual([]);
    expect(phasesOf({ phases: [{ phase: "copy" }] })).toEqual([]);
  });
});
