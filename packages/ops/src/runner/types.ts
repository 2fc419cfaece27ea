import type { Secret } from "../secrets/secret.ts";

/** A command as data: built by pure functions, run by one `Runner`. */
export interface Cmd {
  file: string;
  args: string[];
  cwd?: string;
  /** Extra environment for the child. A `Secret` is revealed only into the child's environment. */
  env?: Record<string, string | Secret | undefined>;
  /** Written to stdin, then closed. The only way secret values reach flyctl. */
  input?: string | Secret;
}

/** The same shape on success and failure (zx `ProcessOutput`). `command` is redacted for display. */
export interface RunResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  command: string;
}

export interface RunOptions {
  /** Kill the child after this many milliseconds. @default none */
  timeoutMs?: number;
  /** Called with each stdout line as it arrives (a command that streams, `fly logs`); stdout is still returned whole. */
  onStdoutLine?: (line: string) => void;
  /** Aborting it kills the child (SIGTERM); the result then has `signal` set and `ok` false. */
  signal?: AbortSignal;
}

export type Runner = (cmd: Cmd, opts?: RunOptions) => Promise<RunResult>;

/** `file arg1 "arg 2"`: for display only, never for execution. */
export function displayCommand(cmd: Pick<Cmd, "file" | "args">): string {
  return [cmd.file, ...cmd.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}
