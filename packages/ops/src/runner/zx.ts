import { LineBuffer } from "../logs/lines.ts";
import { Secret } from "../secrets/secret.ts";
import type { Cmd, RunOptions, RunResult, Runner } from "./types.ts";
import { displayCommand } from "./types.ts";

/**
 * The default runner: a preset zx `$` (never the global one) with `nothrow` and `quiet`, the argv
 * passed as an array so zx quotes each item and no shell string is ever built from values.
 * `baseEnv` is the process environment the child inherits (from `OpsEnv.processEnv`).
 */
export function createZxRunner(baseEnv: Readonly<Record<string, string | undefined>>): Runner {
  return async (cmd: Cmd, opts: RunOptions = {}): Promise<RunResult> => {
    const { $ } = await import("zx"); // loaded on the first command, not by steps that run none
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
    for (const [k, v] of Object.entries(cmd.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v instanceof Secret ? v.reveal() : v;
    }
    const input = cmd.input instanceof Secret ? cmd.input.reveal() : cmd.input;
    const started = performance.now();
    const preset = $({
      nothrow: true,
      quiet: true,
      verbose: false,
      env,
      ...(cmd.cwd ? { cwd: cmd.cwd } : {}),
      ...(input !== undefined ? { input } : {}),
      ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const running = preset`${cmd.file} ${cmd.args}`;
    if (opts.onStdoutLine) {
      const onLine = opts.onStdoutLine;
      const lines = new LineBuffer();
      running.stdout.setEncoding("utf8");
      running.stdout.on("data", (chunk: string) => lines.push(chunk).forEach(onLine));
      running.stdout.on("end", () => lines.flush().forEach(onLine));
    }
    const out = await running;
    return {
      ok: out.exitCode === 0,
      exitCode: out.exitCode,
      signal: out.signal,
      stdout: out.stdout,
      stderr: out.stderr,
      durationMs: Math.round(performance.now() - started),
      command: displayCommand(cmd),
    };
  };
}
