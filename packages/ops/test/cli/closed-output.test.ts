// `pnpm ops:status | head -3`: the reader goes away while the command still writes. The command must
// finish what it does, with its own exit code and no stack trace; one that only streams stops.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";

const tsx = createRequire(import.meta.url).resolve("tsx");
const runOps = new URL("../../src/cli/run-ops.ts", import.meta.url).pathname;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-closed-output-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// A step that prints 2,000 lines, then records that it got to its end and exits 3.
const finishing = `
import { writeFileSync } from "node:fs";
import { defineOps, runOps } from ${JSON.stringify(runOps)};
await runOps(defineOps({ name: "noisy", description: "prints a lot", async run(ctx) {
  for (let i = 0; i < 2000; i++) {
    ctx.reporter.emit({ kind: "info", message: "line " + i });
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  writeFileSync(process.env.MARK, "finished");
  return 3;
}}));
`;

// A step that streams until it is stopped (like ops:logs --follow), then records how it ended.
const streaming = `
import { writeFileSync } from "node:fs";
import { defineOps, runOps } from ${JSON.stringify(runOps)};
await runOps(defineOps({ name: "follow", description: "streams", endsOnInterrupt: true, async run(ctx) {
  let stopped = false;
  ctx.onInterrupt(async () => { stopped = true; });
  while (!stopped) {
    ctx.reporter.emit({ kind: "info", message: "still here" });
    await new Promise((r) => setTimeout(r, 5));
  }
  writeFileSync(process.env.MARK, "stopped");
}}));
`;

/** Runs `script`, closes its stdout after the first chunk, and resolves with its exit code and stderr. */
function runAndCloseEarly(script: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", tsx, "--input-type=module", "-e", script], {
    env: { ...process.env, MARK: join(dir, "mark"), OPS_STATE_DIR: join(dir, ".ops"), OPS_JSON: "", CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  child.stdout.once("data", () => child.stdout.destroy());
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

it("a step whose reader went away finishes its work and exits with its own code, without a stack trace", async () => {
  const { code, stderr } = await runAndCloseEarly(finishing);
  expect(stderr).not.toMatch(/EPIPE|at .*\(|Unhandled/);
  expect(code).toBe(3);
  expect(readFileSync(join(dir, "mark"), "utf8")).toBe("finished");
}, 60_000);

it("a streaming command stops when its reader goes away", async () => {
  const { code, stderr } = await runAndCloseEarly(streaming);
  expect(stderr).not.toMatch(/EPIPE|at .*\(|Unhandled/);
  expect(code).toBe(0);
  expect(existsSync(join(dir, "mark")) && readFileSync(join(dir, "mark"), "utf8")).toBe("stopped");
}, 60_000);
