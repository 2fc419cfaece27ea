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
  /** CPU time of turbo and every task (user + system), when GNU time is installed. */
  cpuMs?: number;
  /** taskId → [ms, cache status]. */
  tasks: Map<string, { ms: number; cache: string }>;
  /** taskId → the step's own time once started (`durationMs` of its record in the run's state folder). */
  steps: Map<string, number>;
}

/** The turbo task of each step record (`.ops/runs/<id>/steps/<step>.json`). */
const TASK_OF_STEP: Record<string, string> = {
  preflight: "@repo/scripts#production-preflight",
  "sync-secrets": "@repo/scripts#production-sync-secrets",
  "db-migrate": "@repo/scripts#db-migrate",
  artifacts: "@repo/scripts#production-artifacts",
  "deploy-backend": "backend#deploy",
  "deploy-authentik": "authentik#deploy",
  "deploy-client": "client#deploy",
  smoke: "@repo/scripts#production-smoke",
};

/** The steps' own durations in the newest run of the bench environment. */
function stepDurations(ws: Workspace): Map<string, number> {
  const runs = join(ws.env.OPS_STATE_DIR!, "runs");
  const newest = readdirSync(runs)
    .filter((d) => /^\d{8}-\d{6}-/.test(d))
    .sort()
    .at(-1)!;
  const out = new Map<string, number>();
  for (const f of readdirSync(join(runs, newest, "steps"))) {
    const rec = JSON.parse(readFileSync(join(runs, newest, "steps", f), "utf8")) as { step: string; durationMs?: number };
    const task = TASK_OF_STEP[rec.step];
    if (task && rec.durationMs !== undefined) out.set(task, rec.durationMs);
  }
  return out;
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
  return { wallMs: res.ms, cpuMs: res.cpuMs, tasks, steps: stepDurations(ws) };
}

/** The client source file a one-line change goes to. */
export const CLIENT_FILE = "apps/client/app/root.tsx";

/** Appends one comment line to the client's root route: its build's inputs change, nothing else does. */
export function oneLineClientChange(ws: Workspace, n: number): void {
  appendFileSync(join(ws.dir, CLIENT_FILE), `// bench change ${n}\n`);
}
