// What `pnpm ops:status` says about a current release that does not run.
import { describe, expect, it } from "vitest";
import { downState } from "../../src/local/provider.ts";

describe("downState: why a current release does not run", () => {
  it("tells a crash from a stop and from a killed supervisor", () => {
    expect(downState({ status: "crashed", restarts: 5 })).toBe("crashed (gave up after 5 restarts)");
    expect(downState({ status: "stopped", restarts: 0 })).toBe("stopped");
    expect(downState(undefined)).toBe("stopped");
    expect(downState({ status: "running", restarts: 1 })).toBe("down (its supervisor is gone)");
  });
});
