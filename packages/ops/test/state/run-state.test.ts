import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunStateError } from "../../src/errors.ts";
import { newRunId, RunStore, type RunRecord, type StepRecord } from "../../src/state/run-state.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-run-state-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (runId: string, over: Partial<RunRecord> = {}): RunRecord => ({
  runId,
  environment: "production",
  target: "fly",
  actor: "alice",
  host: "laptop",
  gitSha: "abc1234",
  startedAt: "2026-11-29T12:00:00.000Z",
  status: "running",
  ...over,
});
const step = (name: string, over: Partial<StepRecord> = {}): StepRecord => ({
  step: name,
  status: "succeeded",
  startedAt: "2026-11-29T12:00:01.000Z",
  durationMs: 1500,
  detail: {},
  ...over,
});

function runStateError(fn: () => unknown): RunStateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RunStateError);
    return err as RunStateError;
  }
  throw new Error("expected a RunStateError");
}

describe("newRunId", () => {
  it("is sortable by time with a random suffix", () => {
    const id = newRunId(new Date("2026-11-29T13:15:02.789Z"));
    expect(id).toMatch(/^20261129-131502-[0-9a-f]{4}$/);
    expect(newRunId(new Date("2026-11-29T13:15:03Z")) > id).toBe(true);
  });
});

describe("RunStore", () => {
  it("a damaged current-run pointer is an error naming the file and the command; clearing any run removes it", () => {
    const store = new RunStore(dir, "production");
    store.create(run("run-a"));
    const pointer = join(dir, "current-run", "production.json");
    writeFileSync(pointer, '{"runId": 4');
    expect(() => store.currentRunId()).toThrow(RunStateError);
    expect(() => store.requireCurrent("deploy backend")).toThrow(
      `the current-run pointer ${pointer} is damaged, so which run is under way is unknown`,
    );
    store.clearCurrent("run-a");
    expect(existsSync(pointer)).toBe(false);
    expect(store.currentRunId()).toBeUndefined();
  });

  it("create makes the run current, and current reads it back", () => {
    const store = new RunStore(dir, "production");
    expect(store.currentRunId()).toBeUndefined();
    store.create(run("run-a"));
    expect(store.currentRunId()).toBe("run-a");
    expect(store.requireCurrent("deploy")).toEqual(run("run-a"));
    expect(store.read("run-a")).toEqual(run("run-a"));
    const file = join(dir, "runs", "run-a", "run.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, "current-run", "production.json"), "utf8"))).toEqual({ runId: "run-a" });
  });

  it("requireCurrent fails when no run is under way", () => {
    const e = runStateError(() => new RunStore(dir, "production").requireCurrent("db-migrate"));
    expect(e.message).toBe('no deploy run is under way for environment "production"');
    expect(e.fix).toContain("pnpm turbo run production-deploy");
  });

  it("requireCurrent fails when the current run already ended", () => {
    const store = new RunStore(dir, "production");
    store.create(run("run-a"));
    store.update("run-a", { status: "failed", failedStep: "production-smoke", error: "smoke failed" });
    const e = runStateError(() => store.requireCurrent("backend#deploy"));
    expect(e.message).toBe("run run-a already ended (failed at production-smoke), so backend#deploy cannot join it");
    store.update("run-a", { status: "succeeded", failedStep: undefined });
    expect(runStateError(() => store.requireCurrent("finish")).message).toBe(
      "run run-a already ended (succeeded), so finish cannot join it",
    );
  });

  it("read fails for an unknown run, naming where it looked", () => {
    const e = runStateError(() => new RunStore(dir, "production").read("nope"));
    expect(e.message).toBe(`run nope has no state at ${join(dir, "runs", "nope", "run.json")}`);
  });

  it("update merges the patch", () => {
    const store = new RunStore(dir, "production");
    store.create(run("run-a"));
    expect(store.update("run-a", { lockToken: "tok" })).toEqual({ ...run("run-a"), lockToken: "tok" });
    expect(store.read("run-a").lockToken).toBe("tok");
  });

  it("writes each step to its own file and reads them all back", () => {
    const store = new RunStore(dir, "production");
    store.create(run("run-a"));
    const pre = step("production-preflight", { detail: { checks: 12 } });
    const mig = step("db-migrate", { status: "failed", detail: { applied: ["3_x.sql"] } });
    store.writeStep("run-a", pre);
    store.writeStep("run-a", mig);
    expect(readdirSync(join(dir, "runs", "run-a", "steps")).sort()).toEqual(["db-migrate.json", "production-preflight.json"]);
    expect(JSON.parse(readFileSync(join(dir, "runs", "run-a", "steps", "db-migrate.json"), "utf8"))).toEqual(mig);
    expect(store.readSteps("run-a")).toEqual({ "production-preflight": pre, "db-migrate": mig });
    // rewriting a step replaces only its file
    store.writeStep("run-a", { ...mig, status: "succeeded" });
    expect(store.readSteps("run-a")["db-migrate"]!.status).toBe("succeeded");
    expect(store.readSteps("run-a")["production-preflight"]).toEqual(pre);
    expect(store.readSteps("no-such-run")).toEqual({});
  });

  it("clearCurrent only clears its own run", () => {
    const store = new RunStore(dir, "production");
    store.create(run("run-a"));
    store.create(run("run-b"));
    expect(store.currentRunId()).toBe("run-b");
    store.clearCurrent("run-a");
    expect(store.currentRunId()).toBe("run-b");
    store.clearCurrent("run-b");
    expect(store.currentRunId()).toBeUndefined();
    expect(existsSync(join(dir, "current-run", "production.json"))).toBe(false);
    expect(store.read("run-a").runId).toBe("run-a"); // the run folders stay
  });

  it("keeps one current run per environment", () => {
    const prod = new RunStore(dir, "production");
    const staging = new RunStore(dir, "staging");
    prod.create(run("run-p"));
    staging.create(run("run-s", { environment: "staging" }));
    expect(prod.currentRunId()).toBe("run-p");
    expect(staging.currentRunId()).toBe("run-s");
    staging.clearCurrent("run-s");
    expect(prod.currentRunId()).toBe("run-p");
  });

  it("writeFile puts a private file into the run folder", () => {
    const store = new RunStore(dir, "production");
    store.create(run("run-a"));
    const path = store.writeFile("run-a", "report.md", "# Deploy\n");
    expect(path).toBe(join(dir, "runs", "run-a", "report.md"));
    expect(readFileSync(path, "utf8")).toBe("# Deploy\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
