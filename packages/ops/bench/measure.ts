/** Small measuring tools for `pnpm bench`: timed child processes, medians, and the text of the tables. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Timed {
  code: number | null;
  out: string;
  /** Wall time from spawn to exit, in ms. */
  ms: number;
  /**
   * CPU time (user + system) of the command and every process it waited for, in ms, from GNU
   * time (`/usr/bin/time`, getrusage of the children); undefined where that is not installed.
   * Detached helpers it started are not included. Less sensitive than wall time to a busy machine.
   */
  cpuMs?: number;
}

const GNU_TIME = "/usr/bin/time";

/** Runs `file args` in `cwd` with exactly `env` (plus PATH and HOME from ours), timing it from spawn to exit. */
export function timed(file: string, args: string[], opts: { cwd: string; env: Record<string, string | undefined> }): Promise<Timed> {
  return new Promise((resolve) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v;
    const started = performance.now();
    const child = spawn(file, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out, ms: performance.now() - started }));
  });
}

/** Like {@link timed}, and also measures the CPU time under GNU time when it is installed. */
export async function timedWithCpu(
  file: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined> },
): Promise<Timed> {
  if (!existsSync(GNU_TIME)) return timed(file, args, opts);
  const dir = mkdtempSync(join(tmpdir(), "ops-bench-time-"));
  try {
    const res = await timed(GNU_TIME, ["-f", "%U %S", "-o", join(dir, "cpu"), file, ...args], opts);
    const [user, system] = readFileSync(join(dir, "cpu"), "utf8").trim().split("\n").at(-1)!.split(" ").map(Number);
    return { ...res, cpuMs: ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like {@link timedWithCpu}, but a non-zero exit stops the bench with the command's output. */
export async function timedOk(
  file: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined> },
): Promise<Timed> {
  const res = await timedWithCpu(file, args, opts);
  if (res.code !== 0) throw new Error(`bench: \`${[file, ...args].join(" ")}\` exited ${res.code}:\n${res.out.slice(-4000)}`);
  return res;
}

/** The median (upper median for an even count); NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
export const ratio = (r: number) => `${r.toFixed(2)}×`;

/** A markdown table's lines. */
export function table(columns: string[], rows: (string | number)[][]): string[] {
  return [`| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}
