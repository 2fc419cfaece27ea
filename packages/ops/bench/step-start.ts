/**
 * How long a step takes to start compared with node itself: pairs of (`node -e 0`, the command)
 * run back to back, the ratio taken per pair, then the median, so a busy machine slows both sides
 * of a pair alike.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, timed } from "./measure.ts";
import type { Workspace } from "./workspace.ts";

export interface StartResult {
  command: string;
  /** Median wall of the command and of `node -e 0`, ms. */
  ms: number;
  nodeMs: number;
  /** Median of the per-pair ratios. */
  ratio: number;
}

async function pairs(label: string, run: () => Promise<{ ms: number }>, count: number, ws: Workspace): Promise<StartResult> {
  const ratios: number[] = [];
  const ms: number[] = [];
  const nodeMs: number[] = [];
  await run(); // warm the file cache
  for (let i = 0; i < count; i++) {
    const base = await timed(process.execPath, ["-e", "0"], { cwd: ws.dir, env: ws.env });
    const cmd = await run();
    ratios.push(cmd.ms / base.ms);
    ms.push(cmd.ms);
    nodeMs.push(base.ms);
  }
  return { command: label, ms: median(ms), nodeMs: median(nodeMs), ratio: median(ratios) };
}

/**
 * `ops:status` on local with nothing running (an environment of its own): the command the root
 * script runs, the same through `pnpm ops:status`, and under tsx as before the prebuild (for
 * reference); then `--help` of every entry script (start, flags, exit).
 */
export async function stepStarts(ws: Workspace, count: number): Promise<StartResult[]> {
  const idleState = mkdtempSync(join(tmpdir(), "ops-bench-idle-"));
  const idle = { OPS_ENV: "bench-idle", OPS_STATE_DIR: idleState };
  try {
    const rows = [
      await pairs("ops:status (local, nothing running)", () => ws.step("status", [], { env: idle }).then(ok), count, ws),
      await pairs("pnpm ops:status (the same through pnpm run)", () => ws.pnpm(["ops:status"], idle).then(ok), count, ws),
      await pairs(
        "ops:status under tsx (as before the prebuild)",
        () =>
          timed(process.execPath, ["--import", "tsx", join(ws.dir, "scripts/status.ts")], {
            cwd: ws.dir,
            env: { ...ws.env, ...idle },
          }).then(ok),
        count,
        ws,
      ),
    ];
    const scripts = readdirSync(join(ws.dir, "scripts"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => f.slice(0, -3))
      .sort();
    for (const s of scripts) rows.push(await pairs(`${s} --help`, () => ws.step(s, ["--help"], { env: idle }).then(ok), count, ws));
    return rows;
  } finally {
    rmSync(idleState, { recursive: true, force: true });
  }
}

function ok<T extends { code: number | null; out: string }>(res: T): T {
  if (res.code !== 0) throw new Error(`bench: a step exited ${res.code}:\n${res.out.slice(-2000)}`);
  return res;
}
