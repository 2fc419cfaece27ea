/**
 * `scripts/turbo.mjs` (what `pnpm turbo …` runs) leaves nothing in the temp folder: the file that
 * names an interrupting signal is written only once a signal arrives and removed on exit, so a
 * wrapper killed with -9 leaves no trace. Each run gets its own TMPDIR to look at.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../../..");
let temp: string;
afterEach(() => rmSync(temp, { recursive: true, force: true }));

/** The wrapper on a dry run of the pipeline (about a second of turbo), with its own TMPDIR. */
function startWrapper(): ChildProcess {
  temp = mkdtempSync(join(tmpdir(), "wrapper-tmp-"));
  return spawn(process.execPath, [join(repoRoot, "scripts", "turbo.mjs"), "run", "production-deploy", "--dry=json"], {
    cwd: repoRoot,
    env: { ...process.env, TMPDIR: temp, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    stdio: "ignore",
  });
}

/** Waits until turbo runs under the wrapper (its signal handlers are installed by then). */
async function turboStarted(pid: number): Promise<void> {
  for (;;) {
    try {
      if (execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim()) return;
    } catch {
      // no child yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const wrapperFiles = () => readdirSync(temp).filter((f) => f.startsWith("ops-turbo-"));

describe("scripts/turbo.mjs", () => {
  it("kill -9 of the wrapper leaves nothing in the temp folder", async () => {
    const wrapper = startWrapper();
    await turboStarted(wrapper.pid!);
    wrapper.kill("SIGKILL");
    await once(wrapper, "exit");
    expect(wrapperFiles()).toEqual([]);
  });

  it("SIGTERM: exits 143 and removes the signal file it wrote for the steps", async () => {
    const wrapper = startWrapper();
    await turboStarted(wrapper.pid!);
    wrapper.kill("SIGTERM");
    const [code] = await once(wrapper, "exit");
    expect(code).toBe(143);
    expect(wrapperFiles()).toEqual([]);
  });
});
