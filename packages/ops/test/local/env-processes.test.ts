// A detached helper killed with -9 leaves its child in its process group: stopGroup finds and stops
// it by group, and only processes whose working folder lies in the environment's folders.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processesUnder, stopGroup } from "../../src/local/env-processes.ts";
import { isAlive } from "../../src/local/process-utils.ts";

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A detached "helper" in `cwd` that starts one child and prints the child's pid. */
async function helperWithChild(cwd: string): Promise<{ leader: number; child: number }> {
  const script =
    "const c=require('node:child_process').spawn(process.execPath,['-e','setInterval(()=>{},1e5)'],{stdio:'ignore'});console.log(c.pid);setInterval(()=>{},1e5)";
  const leader = spawn(process.execPath, ["-e", script], { cwd, detached: true, stdio: ["ignore", "pipe", "ignore"] });
  const child = await new Promise<number>((resolve) => leader.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
  pids.push(leader.pid!, child);
  return { leader: leader.pid!, child };
}

describe("the processes of an environment, by folder and process group", () => {
  it("lists the helper and its child, and stops the child the killed helper left behind", async () => {
    const root = mkdtempSync(join(tmpdir(), "ops-env-procs-"));
    dirs.push(root);
    const { leader, child } = await helperWithChild(root);
    expect(
      processesUnder([root])
        .map((p) => p.pid)
        .sort(),
    ).toEqual([leader, child].sort());
    process.kill(leader, "SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(child)).toBe(true);
    const stopped = await stopGroup(leader, [root], 2_000);
    expect(stopped.map((p) => p.pid)).toEqual([child]);
    expect(isAlive(child)).toBe(false);
  });

  it("leaves a group alone whose processes live outside the given folders", async () => {
    const root = mkdtempSync(join(tmpdir(), "ops-env-procs-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "ops-env-other-"));
    dirs.push(root, elsewhere);
    const { leader, child } = await helperWithChild(elsewhere);
    expect(await stopGroup(leader, [root], 500)).toEqual([]);
    expect(isAlive(leader) && isAlive(child)).toBe(true);
  });
});
