import { z } from "zod";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { RunStateError } from "../errors.ts";
import { writeJsonAtomic as writeAtomic } from "../local/process-utils.ts";
import { writingTo } from "./fs-errors.ts";

/**
 * The state shared by the tasks of one pipeline run, under `<stateDir>/runs/<runId>/`.
 * Each step writes only its own file (`steps/<step>.json`), so tasks turbo runs in parallel never
 * race on one file. Nothing here ever holds a secret value: staged secrets are fingerprints.
 */
export interface RunRecord {
  runId: string;
  environment: string;
  target: string;
  actor: string;
  host: string;
  gitSha: string;
  startedAt: string;
  /** Lease token of the deploy lock held by this run. */
  lockToken?: string;
  /** The process that owns the run (pipeline/owner.ts): turbo in a pipeline, the command alone. */
  owner?: { pid: number; start: string };
  status: "running" | "succeeded" | "failed" | "rolled-back";
  failedStep?: string;
  error?: string;
  finishedAt?: string;
}

export interface StepRecord {
  step: string;
  status: "succeeded" | "failed";
  startedAt: string;
  durationMs: number;
  /** Step-specific facts (previous release, staged secret fingerprints, migrations applied...). */
  detail: Record<string, unknown>;
}

/** `20261129-131502-3fa9`: sortable by time, unique enough for one environment. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${t}-${randomBytes(2).toString("hex")}`;
}

/** Run state holds no secret, but stays private to the deployer (mode 0600). */
const writeJsonAtomic = (path: string, data: unknown) => writeAtomic(path, data, 0o600);

const runRecordSchema = z
  .object({
    runId: z.string(),
    environment: z.string(),
    target: z.string(),
    actor: z.string(),
    host: z.string(),
    gitSha: z.string(),
    startedAt: z.string(),
    status: z.enum(["running", "succeeded", "failed", "rolled-back"]),
  })
  .passthrough();

const stepRecordSchema = z
  .object({
    step: z.string(),
    status: z.enum(["succeeded", "failed"]),
    startedAt: z.string(),
    durationMs: z.number(),
    detail: z.record(z.string(), z.unknown()),
  })
  .passthrough();

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class RunStore {
  constructor(
    private readonly stateDir: string,
    private readonly environment: string,
  ) {}

  /** The folder of one run's state. */
  runDir(runId: string): string {
    return join(this.stateDir, "runs", runId);
  }
  private pointerPath() {
    return join(this.stateDir, "current-run", `${this.environment}.json`);
  }

  /** Creates the run folder and makes it the environment's current run. */
  create(record: RunRecord): void {
    writingTo(join(this.runDir(record.runId), "steps"), () => mkdirSync(join(this.runDir(record.runId), "steps"), { recursive: true }));
    writeJsonAtomic(join(this.runDir(record.runId), "run.json"), record);
    writeJsonAtomic(this.pointerPath(), { runId: record.runId });
  }

  /**
   * The current run's id, or undefined when no pipeline run is under way.
   * @throws {RunStateError} naming the pointer file when it is damaged.
   */
  currentRunId(): string | undefined {
    const pointer = this.readPointer();
    if (pointer.damaged) {
      throw new RunStateError(`the current-run pointer ${this.pointerPath()} is damaged, so which run is under way is unknown`, {
        where: this.pointerPath(),
        fix: "Start a new run with `pnpm turbo run production-deploy` (it writes the pointer again and takes over the lock of a run whose process is gone).",
      });
    }
    return pointer.runId;
  }

  private readPointer(): { runId?: string; damaged: boolean } {
    if (!existsSync(this.pointerPath())) return { damaged: false };
    const runId = (safeJson(readFileSync(this.pointerPath(), "utf8")) as { runId?: unknown } | undefined)?.runId;
    return typeof runId === "string" ? { runId, damaged: false } : { damaged: true };
  }

  /**
   * The current run, for a step that joins the pipeline.
   * @throws {RunStateError} when there is none, or it already ended.
   */
  requireCurrent(step: string): RunRecord {
    const runId = this.currentRunId();
    if (!runId) {
      throw new RunStateError(`no deploy run is under way for environment "${this.environment}"`, {
        fix: "Start the whole pipeline with `pnpm turbo run production-deploy` (preflight opens the run), or run the step alone with its pnpm ops:* command.",
      });
    }
    const run = this.read(runId);
    if (run.status !== "running") {
      throw new RunStateError(
        `run ${runId} already ended (${run.status}${run.failedStep ? ` at ${run.failedStep}` : ""}), so ${step} cannot join it`,
        {
          fix: "Start a new run with `pnpm turbo run production-deploy`.",
        },
      );
    }
    return run;
  }

  /** Whether run `runId` has state in this folder. */
  exists(runId: string): boolean {
    return existsSync(join(this.runDir(runId), "run.json"));
  }

  read(runId: string): RunRecord {
    const path = join(this.runDir(runId), "run.json");
    if (!existsSync(path)) throw new RunStateError(`run ${runId} has no state at ${path}`, { fix: "Start a new run." });
    try {
      return runRecordSchema.parse(JSON.parse(readFileSync(path, "utf8"))) as RunRecord;
    } catch {
      throw new RunStateError(`the state of run ${runId} is damaged: ${path} is not the run record JSON it should be`, {
        where: path,
        fix: "Start a new run with `pnpm turbo run production-deploy`: it takes over the lock of a run whose process is gone and records it as abandoned (if the run's process still runs, stop it first, or `pnpm ops:lock break --yes`).",
      });
    }
  }

  /**
   * Marks a run whose process is gone as failed (`abandoned: <why>`) and ends the current-run
   * pointer if it names it. A damaged run.json is written again from what the lock holder says.
   */
  markAbandoned(holder: { runId: string; user: string; host: string; gitSha: string }, why: string): void {
    if (this.exists(holder.runId)) {
      const patch = { status: "failed" as const, finishedAt: new Date().toISOString(), error: `abandoned: ${why}` };
      let current: RunRecord | undefined;
      try {
        current = this.read(holder.runId);
      } catch {
        // damaged: rebuilt below from the lock holder
      }
      if (!current || current.status === "running") {
        const base: RunRecord = current ?? {
          runId: holder.runId,
          environment: this.environment,
          target: "unknown",
          actor: holder.user,
          host: holder.host,
          gitSha: holder.gitSha,
          startedAt: patch.finishedAt,
          status: "running",
        };
        writeJsonAtomic(join(this.runDir(holder.runId), "run.json"), { ...base, ...patch });
      }
    }
    this.clearCurrent(holder.runId);
  }

  update(runId: string, patch: Partial<RunRecord>): RunRecord {
    const next = { ...this.read(runId), ...patch };
    writeJsonAtomic(join(this.runDir(runId), "run.json"), next);
    return next;
  }

  writeStep(runId: string, record: StepRecord): void {
    writeJsonAtomic(join(this.runDir(runId), "steps", `${record.step}.json`), record);
  }

  readSteps(runId: string): Record<string, StepRecord> {
    const dir = join(this.runDir(runId), "steps");
    if (!existsSync(dir)) return {};
    const out: Record<string, StepRecord> = {};
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      // A step file a killed process left half-written cannot exist (atomic writes); one that does not parse is skipped and named.
      const parsed = stepRecordSchema.safeParse(safeJson(readFileSync(join(dir, f), "utf8")));
      if (!parsed.success)
        throw new RunStateError(`the step record ${join(dir, f)} of run ${runId} is damaged, so what that step did is unknown`, {
          where: join(dir, f),
          fix: "Start a new run with `pnpm turbo run production-deploy` (this run was marked failed and its lock released); `pnpm ops:status` shows what serves.",
        });
      const rec = parsed.data as StepRecord;
      out[rec.step] = rec;
    }
    return out;
  }

  /** Writes a file (report) into the run folder. */
  writeFile(runId: string, name: string, text: string): string {
    const path = join(this.runDir(runId), name);
    writingTo(path, () => writeFileSync(path, text, { mode: 0o600 }));
    return path;
  }

  /** Ends the current-run pointer if it still points at `runId`. */
  clearCurrent(runId: string): void {
    // A damaged pointer names no run: it goes too.
    const pointer = this.readPointer();
    if (pointer.runId === runId || pointer.damaged) writingTo(this.pointerPath(), () => rmSync(this.pointerPath(), { force: true }));
  }
}
