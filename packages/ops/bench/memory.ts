/**
 * Resident memory: the peak of each pipeline step (getrusage's ru_maxrss, recorded at exit by
 * rss-probe.mjs), and of the long-running helpers the local target leaves running (read from
 * /proc: VmRSS, VmHWM, and PSS from smaps_rollup, which shares the node binary's pages among the
 * processes mapping them).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { timed } from "./measure.ts";
import type { Workspace } from "./workspace.ts";

/** The steps of `turbo run production-deploy`, in the order turbo runs them (as the e2e harness lists them). */
export const PIPELINE_STEPS: [string, string[]][] = [
  ["preflight", ["--pipeline"]],
  ["secrets", ["sync", "--pipeline"]],
  ["migrate", ["--pipeline"]],
  ["artifacts", ["--pipeline"]],
  ["deploy", ["backend", "--pipeline"]],
  ["deploy", ["client", "--pipeline"]],
  ["smoke", ["--pipeline"]],
  ["finish", ["--pipeline"]],
];

export interface StepRss {
  step: string;
  peakKb: number;
}

const probe = join(import.meta.dirname, "rss-probe.mjs");

/** Runs the pipeline's steps one by one (a real deploy) and reads each one's peak RSS; also that of `node -e 0`. */
export async function stepPeakRss(ws: Workspace): Promise<StepRss[]> {
  const dir = mkdtempSync(join(tmpdir(), "ops-bench-rss-"));
  try {
    const rows: StepRss[] = [];
    const peak = (file: string) => Number(readFileSync(file, "utf8").trim().split("\n").at(-1));
    const base = join(dir, "node");
    await timed(process.execPath, ["--import", probe, "-e", "0"], { cwd: ws.dir, env: { ...ws.env, BENCH_RSS_OUT: base } });
    rows.push({ step: "node -e 0 (reference)", peakKb: peak(base) });
    for (const [i, [script, args]] of PIPELINE_STEPS.entries()) {
      const file = join(dir, String(i));
      const res = await ws.step(script, args, { nodeArgs: ["--import", probe], env: { BENCH_RSS_OUT: file } });
      if (res.code !== 0) throw new Error(`bench: ${script} ${args.join(" ")} exited ${res.code}:\n${res.out.slice(-3000)}`);
      rows.push({ step: [script, ...args.filter((a) => a !== "--pipeline")].join(" "), peakKb: peak(file) });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface HelperMemory {
  helper: string;
  pid: number;
  rssKb: number;
  peakKb: number;
  pssKb: number;
  /** The command line (node and its first argument): shows whether it runs prebuilt JavaScript or under a loader. */
  command: string;
}

function procField(text: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
}

/** The helpers started from the copy's build that are running now (router, supervisors, Postgres wrapper). */
export function helperMemory(ws: Workspace): HelperMemory[] {
  const builds = join(ws.dir, "packages/ops/dist");
  const rows: HelperMemory[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    const script = argv.find((a) => a.startsWith(builds) && a.includes("/helpers/"));
    if (!script) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      rows.push({
        helper: basename(script, ".mjs"),
        pid: Number(pid),
        rssKb: procField(status, "VmRSS"),
        peakKb: procField(status, "VmHWM"),
        pssKb: procField(rollup, "Pss"),
        command: `node ${argv.slice(1, 2).join(" ").replace(ws.dir, "<copy>")}`,
      });
    } catch {
      // exited while being read
    }
  }
  return rows.sort((a, b) => a.helper.localeCompare(b.helper));
}
