import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { interruptingSignal, signalExitCode } from "../../src/cli/interrupt.ts";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "ops-interrupt-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("signalExitCode", () => {
  it("is 128 + the signal's number, as a shell reports it", () => {
    expect(signalExitCode("SIGINT")).toBe(130);
    expect(signalExitCode("SIGTERM")).toBe(143);
    expect(signalExitCode("SIGHUP")).toBe(129);
  });
});

describe("interruptingSignal", () => {
  it("is the signal this process got when no turbo wrapper names one", async () => {
    expect(await interruptingSignal("SIGINT", undefined)).toBe("SIGINT");
  });

  it("is the signal the wrapper wrote: turbo stops its tasks with SIGINT even when the run got SIGTERM", async () => {
    const file = join(temp(), "signal");
    writeFileSync(file, "SIGTERM");
    expect(await interruptingSignal("SIGINT", file)).toBe("SIGTERM");
  });

  it("waits for the wrapper's file when turbo's SIGINT arrives first", async () => {
    const file = join(temp(), "signal");
    setTimeout(() => writeFileSync(file, "SIGTERM\n"), 100);
    expect(await interruptingSignal("SIGINT", file, 2_000)).toBe("SIGTERM");
  });

  it("falls back to the signal it got when the file never comes or names no signal", async () => {
    const dir = temp();
    expect(await interruptingSignal("SIGTERM", join(dir, "never"), 50)).toBe("SIGTERM");
    writeFileSync(join(dir, "junk"), "not a signal");
    expect(await interruptingSignal("SIGINT", join(dir, "junk"), 50)).toBe("SIGINT");
  });
});
