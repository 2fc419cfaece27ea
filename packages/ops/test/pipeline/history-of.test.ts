import { describe, expect, it } from "vitest";
import { historyOf } from "../../src/pipeline/run.ts";
import type { RunRecord, StepRecord } from "../../src/state/run-state.ts";

const run: RunRecord = {
  runId: "20261207-101500-3fa9",
  environment: "production",
  target: "fly",
  actor: "alice",
  host: "ci",
  gitSha: "0123456789abcdef0123456789abcdef01234567",
  startedAt: "2026-12-07T10:15:00.000Z",
  status: "succeeded",
};
const deployed = (app: string, startedAt: string): StepRecord => ({
  step: `deploy-${app}`,
  status: "succeeded",
  startedAt,
  durationMs: 1000,
  detail: { app, previous: "v1", release: "v2" },
});

describe("historyOf", () => {
  it("lists the apps in the order they shipped, not the order the step files are read", () => {
    // As `runs.readSteps` returns them: by file name.
    const steps = {
      "deploy-authentik": deployed("authentik", "2026-12-07T10:15:20.000Z"),
      "deploy-backend": deployed("backend", "2026-12-07T10:15:10.000Z"),
      "deploy-client": deployed("client", "2026-12-07T10:15:30.000Z"),
    };
    const entry = historyOf(run, "deploy", steps);
    expect(Object.keys(entry.releases)).toEqual(["backend", "authentik", "client"]);
    expect(Object.keys(entry.durationsMs)).toEqual(["deploy-backend", "deploy-authentik", "deploy-client"]);
  });
});
