import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { helperNodeArgs } from "../../src/local/helper-command.ts";

const children: ChildProcess[] = [];
const folders: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

/** A supervisor of a long-sleeping node app, writing `stateFile`. */
function supervisor(stateFile: string, dir: string): ChildProcess {
  const app = [process.execPath, "-e", "setInterval(() => {}, 1e9)"];
  const child = spawn(process.execPath, [...helperNodeArgs("supervisor-main"), stateFile, dir, "--", ...app], { stdio: "ignore" });
  children.push(child);
  return child;
}

const state = (file: string) => JSON.parse(readFileSync(file, "utf8")) as { supervisorPid: number; status: string };

describe("two supervisors of one release folder", () => {
  it("the older one stopping leaves the state file naming the one that runs (kill -9 of `ops:local up`, then `ops:local up`)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ops-supervisor-"));
    folders.push(dir);
    const file = join(dir, "supervisor.json");
    const older = supervisor(file, dir);
    await vi.waitFor(() => expect(state(file)).toMatchObject({ supervisorPid: older.pid, status: "running" }), { timeout: 30_000 });
    const newer = supervisor(file, dir);
    await vi.waitFor(() => expect(state(file)).toMatchObject({ supervisorPid: newer.pid, status: "running" }), { timeout: 30_000 });

    const olderExit = new Promise((r) => older.once("exit", r));
    older.kill("SIGTERM");
    expect(await olderExit).toBe(0);
    expect(state(file)).toMatchObject({ supervisorPid: newer.pid, status: "running" });

    const newerExit = new Promise((r) => newer.once("exit", r));
    newer.kill("SIGTERM");
    await newerExit;
    expect(state(file)).toMatchObject({ supervisorPid: newer.pid, status: "stopped" });
  });
});
