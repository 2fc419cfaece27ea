// The one runner streams stdout lines to `onStdoutLine` as they come and kills the child when the
// signal aborts (what `ops:logs --follow` on fly needs).
import { describe, expect, it } from "vitest";
import { createZxRunner } from "../../src/runner/zx.ts";

describe("createZxRunner: streaming and abort", () => {
  it("hands over each line before the command ends, then stops it on abort", async () => {
    const run = createZxRunner(process.env);
    const stop = new AbortController();
    const lines: string[] = [];
    const pending = run(
      {
        file: process.execPath,
        args: ["-e", "process.stdout.write('one\\ntw'); setTimeout(() => process.stdout.write('o\\n'), 50); setInterval(() => {}, 1000);"],
      },
      {
        signal: stop.signal,
        onStdoutLine: (l) => {
          lines.push(l);
          if (l === "two") stop.abort();
        },
      },
    );
    const res = await pending;
    expect(lines).toEqual(["one", "two"]);
    expect(res.ok).toBe(false);
    expect(res.signal).toBe("SIGTERM");
    expect(res.stdout).toBe("one\ntwo\n");
  });
});
