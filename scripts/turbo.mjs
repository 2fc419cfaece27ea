// What `pnpm turbo …` runs in this repository: pnpm runs a root script named like a binary instead
// of the binary, so the root package.json's "turbo" script brings every `pnpm turbo` command here.
// It runs the installed turbo with the same arguments and changes only how an interrupted run ends.
//
// Why: when turbo 2 gets SIGINT or SIGTERM it stops its tasks with SIGINT and counts a task that
// exits during that shutdown as stopped, not failed, whatever its exit code, so `turbo run` exits 0
// (turborepo's crates/turborepo-process/src/child/shutdown.rs; its graceful-shutdown test expects
// 0). A deploy stopped halfway must not look like a success: after a signal this exits 128 + the
// signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), and it writes the signal's name to
// $OPS_INTERRUPT_FILE so the interrupted steps report the signal the run got, not turbo's SIGINT.
// It also hands the tasks its arguments ($OPS_TURBO_RUN_ARGS), so preflight checks this run's plan,
// and one run id ($OPS_PIPELINE_RUN_ID), so a dry run's tasks plan the same releases.
// Plain JavaScript so that it starts at once; no library does this.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
// Written only when a signal arrives (exclusively, never through a planted file), removed on exit:
// a wrapper killed with -9 before any signal leaves nothing behind.
const interruptFile = join(tmpdir(), `ops-turbo-${process.pid}-${randomBytes(8).toString("hex")}.signal`);
const removeInterruptFile = () => rmSync(interruptFile, { force: true });
const exitCode = (signal) => 128 + (constants.signals[signal] ?? 0);
// One run id for the whole invocation (UTC `YYYYMMDD-HHMMSS-xxxx`, the form the steps use): the
// run preflight opens, and the releases every task of a dry run plans with.
const now = new Date().toISOString();
const runId = `${now.slice(0, 10).replaceAll("-", "")}-${now.slice(11, 19).replaceAll(":", "")}-${randomBytes(2).toString("hex")}`;

const child = spawn(join(repoRoot, "node_modules", ".bin", "turbo"), process.argv.slice(2), {
  stdio: "inherit",
  // OPS_TURBO_RUN_ARGS: preflight replays this run's arguments with --dry=json to check its plan.
  env: {
    ...process.env,
    OPS_INTERRUPT_FILE: interruptFile,
    OPS_TURBO_RUN_ARGS: JSON.stringify(process.argv.slice(2)),
    OPS_PIPELINE_RUN_ID: runId,
  },
});

let received;
const forwarded = new Set();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (!received) {
      received = signal;
      try {
        writeFileSync(interruptFile, signal, { flag: "wx", mode: 0o600 });
      } catch {
        // The steps then report the signal they got themselves (turbo's SIGINT).
      }
    }
    // A terminal's Ctrl-C reaches turbo through the process group, and a second SIGINT would make
    // turbo kill its tasks at once, so SIGINT is not forwarded (turbo's own npm wrapper does the
    // same). SIGTERM and SIGHUP are forwarded once: pnpm relays them here when only its pid gets one,
    // and turbo's npm wrapper counts a group copy and a forwarded one as one request.
    if (signal !== "SIGINT" && !forwarded.has(signal)) {
      forwarded.add(signal);
      child.kill(signal);
    }
  });
}

child.on("error", (err) => {
  removeInterruptFile();
  process.stderr.write(`cannot run turbo from ${join(repoRoot, "node_modules", ".bin")}: ${err.message}; run \`pnpm install\` first\n`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  removeInterruptFile();
  if (received) {
    process.stderr.write(`turbo run interrupted by ${received}: exit ${exitCode(received)}\n`);
    process.exit(exitCode(received));
  }
  process.exit(signal ? exitCode(signal) : (code ?? 1));
});
