import type { Reporter } from "../output/reporter.ts";
import { displayCommand, type Runner } from "./types.ts";

/**
 * Wraps the one runner so every command it runs is reported: `cmd` before (argv for display,
 * the names of the variables set, never values) and `cmd:end` after (exit code, duration). The
 * reporter redacts both lines like every other.
 */
export function withCommandEvents(runner: Runner, reporter: Reporter): Runner {
  return async (cmd, opts) => {
    const command = displayCommand(cmd);
    reporter.emit({
      kind: "cmd",
      command,
      envKeys: Object.keys(cmd.env ?? {})
        .filter((k) => cmd.env![k] !== undefined)
        .sort(),
    });
    const res = await runner(cmd, opts);
    reporter.emit({ kind: "cmd:end", command, exitCode: res.exitCode, durationMs: res.durationMs });
    return res;
  };
}
