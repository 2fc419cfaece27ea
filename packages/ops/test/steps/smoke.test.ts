// `smoke` alone on both targets, in-process: no command runs, only HTTP to a site on loopback (the
// fly target's PUBLIC_URL; the local target's client port). The dry run requests nothing and
// writes no report; apply checks what serves and writes the report; a failed check says which,
// with its attempts and the report path.
import { statSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/local/process-utils.ts";
import { smokeCommand } from "../../src/steps/smoke.ts";
import { CURRENT, type FlySteps, flySteps } from "../setup/fly-steps.ts";
import { dryThenApply, runStep, snapshot } from "../setup/step-run.ts";

describe("smoke on fly", () => {
  let w: FlySteps;
  beforeAll(async () => {
    w = await flySteps("smoke-fly");
  });
  afterAll(() => w?.close());

  it("checks the public URL for the releases Fly reports, and that the backend's public name does not answer", async () => {
    const { printed, live } = await dryThenApply(smokeCommand, {}, () => w.context(), { stateDir: w.stateDir, dbUrl: w.db.url });
    expect(printed).toHaveLength(1);
    expect(printed[0]!.description).toMatch(
      new RegExp(
        `^smoke-check http://127\\.0\\.0\\.1:\\d+ until every check passes or 90000 ms pass: GET /healthz → 200 proving backend=${CURRENT}, client=${CURRENT}; GET / → 200; GET http://127\\.0\\.0\\.1:\\d+/ must not answer$`,
      ),
    );
    // Reads only: what each app runs.
    expect(live.commands.every((c) => c.args[0] === "releases" || c.args[0] === "status" || c.file === "git")).toBe(true);
    const report = live.events.find((e) => e.kind === "result") as { data: { ok: boolean; reportPath: string } };
    expect(report.data.ok).toBe(true);
    expect(statSync(report.data.reportPath).mode & 0o777).toBe(0o600);
  });

  it("a failed check names it, its attempts and the report", async () => {
    w.site.mode = "wrong-schema";
    try {
      const r = await runStep(smokeCommand(), {}, w.context());
      expect(r.error?.name).toBe("SmokeCheckError");
      expect(r.error?.message).toMatch(
        /^1 smoke check failed:\n {2}healthz proves the release: GET \/healthz on 127\.0\.0\.1:\d+ failed after 1 attempt: schema version 1, expected 2\n {4}last 1 attempt:\n {6}\S+ \(\+\d+\.\ds\): HTTP 200: schema version 1, expected 2$/,
      );
      expect(r.error?.where).toMatch(/smoke-report\.json$/);
      expect(statSync(r.error!.where!).isFile()).toBe(true);
    } finally {
      w.site.mode = "healthy";
    }
  });
});

describe("smoke on local", () => {
  let stateDir: string;
  let port: number;
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "ops-smoke-local-"));
    port = await freePort();
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
  const context = () => ({ env: { OPS_ENV: "smoke-local", OPS_STATE_DIR: stateDir, OPS_LOCAL_CLIENT_PORT: String(port) } });

  // What serves through the router is checked in test/steps/deploy-local.test.ts (a tiny app really runs there).
  it("with nothing deployed, the dry run and apply both refuse at once with one message saying to deploy first, and write nothing", async () => {
    const before = await snapshot(stateDir);
    for (const flags of [{ dryRun: true }, {}]) {
      const r = await runStep(smokeCommand(), {}, { ...context(), flags });
      expect(r.error?.name).toBe("SmokeCheckError");
      expect(r.error?.message).toBe('nothing to smoke-check: no app has a release in environment "smoke-local" yet (backend, client)');
      expect(r.error?.fix).toBe("Deploy first: `pnpm turbo run production-deploy`.");
      expect(r.events.some((e) => e.kind === "plan")).toBe(false);
      expect(r.commands).toEqual([]);
    }
    expect(await snapshot(stateDir)).toEqual(before);
  });
});
