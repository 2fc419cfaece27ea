import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { connectExitSignal } from "../../src/local/exit-signal.ts";
import { stopProcess } from "../../src/local/process-utils.ts";

const tsx = createRequire(import.meta.url).resolve("tsx");
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** Resolves when the child prints `line`. */
function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += String(d);
      if (out.split("\n").includes(line)) resolve();
    });
    child.once("exit", (code, signal) => reject(new Error(`exited (${code ?? signal}) before printing ${line}: ${out}`)));
  });
}

async function holder(...args: string[]) {
  const child = spawn(process.execPath, ["--import", tsx, new URL("./exit-holder.ts", import.meta.url).pathname, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  await printed(child, "ready");
  return child;
}

describe("stopProcess returns on the process's exit, not on a poll", () => {
  it("stays pending while the process lives after SIGTERM and returns 'stopped' once it exits", async () => {
    const child = await holder();
    let settled = false;
    const term = printed(child, "term");
    const stop = stopProcess(child.pid, 60_000).finally(() => (settled = true));
    await term;
    expect(settled).toBe(false); // the process has the signal but is still running
    child.stdin!.write("exit\n");
    expect(await stop).toBe("stopped");
    expect(child.exitCode ?? (await new Promise((r) => child.once("exit", r)))).toBe(0);
  });

  it("sends SIGKILL after the grace period and returns 'killed' once the process is gone", async () => {
    const child = await holder("--ignore-term");
    const exited = new Promise((r) => child.once("exit", (_code, signal) => r(signal)));
    expect(await stopProcess(child.pid, 300)).toBe("killed");
    expect(await exited).toBe("SIGKILL");
  });

  it("says 'not-running' for a pid that has exited", async () => {
    const child = await holder();
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(await stopProcess(child.pid, 1_000)).toBe("not-running");
  });
});

describe("connectExitSignal", () => {
  it("connects to a holder, and its `exited` settles when the holder dies", async () => {
    const child = await holder();
    const signal = await connectExitSignal(child.pid!);
    expect(signal).toBeDefined();
    child.kill("SIGKILL");
    await signal!.exited;
    signal!.socket.destroy();
  });

  it("finds nothing for a process that does not hold the socket", async () => {
    expect(await connectExitSignal(process.pid)).toBeUndefined();
  });
});
