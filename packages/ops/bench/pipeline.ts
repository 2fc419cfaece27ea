/**
 * Whole `pnpm turbo run production-deploy` runs in the bench's copy: wall time measured around the
 * command, and each task's time from turbo's own run summary (`--summarize`: `.turbo/runs/<id>.json`,
 * execution start and end per task).
 */
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { timedOk } from "./measure.ts";
import type { Workspace } from "./workspace.ts";

export interface PipelineRun {
  wallMs: number;
  /** taskId → [ms, cache status]. */
  tasks: Map<string, { ms: number; cache: string }>;
}

interface TurboSummary {
  tasks: { taskId: string; cache: { status: string }; execution?: { startTime: number; endTime: number } }[];
}

function newestSummary(dir: string): TurboSummary {
  const runs = join(dir, ".turbo/runs");
  const newest = readdirSync(runs)
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ f, t: statSync(join(runs, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0]!;
  return JSON.parse(readFileSync(join(runs, newest.f), "utf8")) as TurboSummary;
}

/** One `pnpm turbo run production-deploy --summarize` in the copy. @throws when it fails. */
export async function pipelineRun(ws: Workspace): Promise<PipelineRun> {
  const res = await timedOk("pnpm", ["turbo", "run", "production-deploy", "--summarize"], { cwd: ws.dir, env: ws.env });
  const tasks = new Map<string, { ms: number; cache: string }>();
  for (const t of newestSummary(ws.dir).tasks) {
    if (t.execution) tasks.set(t.taskId, { ms: t.execution.endTime - t.execution.startTime, cache: t.cache.status });
  }
  return { wallMs: res.ms, tasks };
}

/** The client source file a one-line change goes to. */
export const CLIENT_FILE = "apps/client/app/root.tsx";

/** Appends one comment line to the client's root route: its build's inputs change, nothing else does. */
export function oneLineClientChange(ws: Workspace, n: number): void {
  appendFileSync(join(ws.dir, CLIENT_FILE), `// bench change ${n}\n`);
}
