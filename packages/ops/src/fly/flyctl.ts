import type { OpsEnv } from "../env.ts";
import { CommandFailedError, ConfigError } from "../errors.ts";
import type { Cmd, RunOptions, RunResult, Runner } from "../runner/types.ts";

/** Meaning of flyctl's exit codes (flyctl `internal/cli/cli.go` and `main.go`). */
export function flyExitMeaning(code: number | null): string {
  switch (code) {
    case 1:
      return "error";
    case 3:
      return "flyctl crashed (panic)";
    case 126:
      return "deadline exceeded";
    case 127:
      return "interrupted";
    case null:
      return "killed by a signal";
    default:
      return `exit ${code}`;
  }
}

/** The `Error: …` lines flyctl printed (and the lines after them), at most 12. */
export function flyErrorLines(stderr: string): string[] {
  const lines = stderr
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean);
  const first = lines.findIndex((l) => l.startsWith("Error"));
  return (first >= 0 ? lines.slice(first) : lines.slice(-6)).slice(0, 12);
}

/** A flyctl command that exited non-zero, with flyctl's own stderr lines (redacted) kept for diagnostics. */
export class FlyctlFailedError extends CommandFailedError {
  /** {@link flyErrorLines} of flyctl's stderr, each passed through the redactor. */
  readonly stderrLines: string[];
  /** True when the shell could not find flyctl at all (exit 127, "command not found"). */
  readonly notInstalled: boolean;
  constructor(
    message: string,
    command: string,
    exitCode: number | null,
    info: { stderrLines: string[]; notInstalled: boolean; fix: string },
  ) {
    super(message, command, exitCode, { fix: info.fix });
    this.stderrLines = info.stderrLines;
    this.notInstalled = info.notInstalled;
  }
}

export interface Flyctl {
  /**
   * Runs a flyctl command; throws CommandFailedError unless it exits 0. `session: false` is for
   * commands that need no token (`version`): they run without FLY_API_TOKEN being required.
   */
  run(
    cmd: Cmd,
    what: string,
    opts?: { timeoutMs?: number; session?: boolean } & Pick<RunOptions, "onStdoutLine" | "signal">,
  ): Promise<RunResult>;
  /** Runs a `--json` command and parses stdout. */
  json<T>(cmd: Cmd, what: string): Promise<T>;
}

/**
 * flyctl through the one runner. The token reaches it only as `FLY_API_TOKEN` in its
 * environment; an empty `FLY_ACCESS_TOKEN` is removed because flyctl takes the first *set*
 * variable even when empty (flyctl `internal/config/config.go`, `os.LookupEnv`). Update checks are
 * off; output is plain.
 * @throws {ConfigError} (on use) when FLY_API_TOKEN is not set.
 */
export function createFlyctl(runner: Runner, env: OpsEnv, redact: (t: string) => string, log?: (line: string) => void): Flyctl {
  // OPS_VERBOSE=1 shows each command and its output, redacted like every other line.
  const verbose = env.verbose && log ? log : undefined;
  const childEnv = (session: boolean): Cmd["env"] => {
    const base = {
      // flyctl takes the first *set* variable even when empty: never hand it an empty one.
      FLY_ACCESS_TOKEN: env.processEnv.FLY_ACCESS_TOKEN ? env.processEnv.FLY_ACCESS_TOKEN : undefined,
      FLY_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    };
    if (!session) return base;
    if (!env.flyApiToken) {
      throw new ConfigError("FLY_API_TOKEN is not set", {
        fix: "Create a deploy token (`fly tokens create deploy -a <app>`) and export FLY_API_TOKEN; in CI use the repository secret.",
      });
    }
    return { ...base, FLY_API_TOKEN: env.flyApiToken };
  };
  const run: Flyctl["run"] = async (cmd, what, opts = {}) => {
    const runOpts: RunOptions = {
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.onStdoutLine ? { onStdoutLine: opts.onStdoutLine } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    const res = await runner(
      { ...cmd, cwd: cmd.cwd ?? env.repoRoot, env: { ...childEnv(opts.session ?? true), ...(cmd.env ?? {}) } },
      runOpts,
    );
    // Stopped on purpose (`ops:logs --follow` and Ctrl-C): not a failure.
    if (opts.signal?.aborted) return res;
    if (verbose) {
      verbose(`$ ${redact(res.command)}  (exit ${res.exitCode ?? "signal"}, ${res.durationMs} ms)`);
      for (const line of `${res.stdout}${res.stderr}`.split("\n").filter(Boolean)) verbose(`  | ${redact(line)}`);
    }
    if (!res.ok && res.exitCode === 127 && /command not found|not found/i.test(res.stderr) && !/^Error/m.test(res.stderr)) {
      throw new FlyctlFailedError(`${what} failed: flyctl is not installed (command not found)`, redact(res.command), 127, {
        stderrLines: flyErrorLines(res.stderr).map(redact),
        notInstalled: true,
        fix: "Install flyctl (curl -L https://fly.io/install.sh | sh, or superfly/flyctl-actions/setup-flyctl in CI) and make sure it is on PATH.",
      });
    }
    if (!res.ok) {
      const lines = flyErrorLines(res.stderr).map(redact);
      throw new FlyctlFailedError(
        `${what} failed: flyctl ${flyExitMeaning(res.exitCode)}${lines.length ? `\n    ${lines.join("\n    ")}` : ""}`,
        redact(res.command),
        res.exitCode,
        {
          stderrLines: lines,
          notInstalled: false,
          fix: lines.some((l) => /no access token|must be authenticated|unauthorized/i.test(l))
            ? "FLY_API_TOKEN is missing or invalid: create a new deploy token and set it."
            : `Read flyctl's message above; the command was: ${redact(res.command)}`,
        },
      );
    }
    return res;
  };
  return {
    run,
    async json<T>(cmd: Cmd, what: string): Promise<T> {
      const res = await run(cmd, what);
      try {
        return JSON.parse(res.stdout) as T;
      } catch {
        throw new CommandFailedError(`${what}: flyctl did not print JSON`, redact(res.command), res.exitCode, {
          fix: "Check the flyctl version (`flyctl version`); this tool needs v0.4.6 or newer.",
        });
      }
    },
  };
}

/**
 * Finds the `FLY_EMIT_RELEASE_JSON` line among stdout lines: every line is tried as JSON, never just
 * the last, because for an app with an HTTP service flyctl prints its "Visit your newly deployed
 * app" lines after it (flyctl `internal/command/deploy/`, v0.4.56+).
 */
export function findEmittedRelease(stdout: string): { id: string; version: number; image_ref: string } | undefined {
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      if (typeof o.version === "number" && typeof o.image_ref === "string")
        return { id: String(o.id), version: o.version, image_ref: o.image_ref };
    } catch {
      // not JSON: a progress line that starts with a brace
    }
  }
  return undefined;
}
