import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF, waitFor } from "../../src/local/wait.ts";

/** A clock that only moves when the code under test sleeps; records each delay. */
function fakeClock() {
  let t = 1_000;
  const delays: number[] = [];
  return {
    delays,
    now: () => t,
    sleep: async (ms: number) => {
      delays.push(ms);
      t += ms;
    },
  };
}

describe("waitFor: health retries with a short backoff", () => {
  it("starts at 25 ms and doubles up to 250 ms", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(DEFAULT_BACKOFF, n))).toEqual([25, 50, 100, 200, 250, 250]);
  });

  it("returns the first ok result, after the backoff delays", async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await waitFor(async () => ({ ok: ++calls === 6, calls }), 10_000, clock);
    expect(result).toEqual({ ok: true, calls: 6 });
    expect(clock.delays).toEqual([25, 50, 100, 200, 250]);
  });

  it("does not wait when the first probe is ok", async () => {
    const clock = fakeClock();
    expect(await waitFor(async () => ({ ok: true }), 10_000, clock)).toEqual({ ok: true });
    expect(clock.delays).toEqual([]);
  });

  it("stops at the deadline and returns the last result seen", async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await waitFor(async () => ({ ok: false, detail: `probe ${++calls}` }), 120, clock);
    // 25 + 50 = 75 ms, then only the 45 ms left before the deadline.
    expect(clock.delays).toEqual([25, 50, 45]);
    expect(result).toEqual({ ok: false, detail: "probe 4" });
  });
});
