// The local target and an image-only app that is on: the steps that would deploy or roll it back
// print the one line and go on; a deploy task of an app that is off prints only its off line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deployCommand } from "../../src/steps/deploy.ts";
import { logsCommand } from "../../src/steps/logs.ts";
import { rollbackCommand } from "../../src/steps/rollback.ts";
import { testContext } from "../setup/context.ts";

const stateDir = mkdtempSync(join(tmpdir(), "ops-image-local-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const LINE = "authentik: image-only app, not run on the local target";

/** The repository's config with authentik on everywhere (as if every apps.env set FLY_APP_AUTHENTIK). */
const authentikOn = (written: Record<string, unknown>) => {
  const apps = written.apps as Record<string, Record<string, unknown>>;
  return { ...written, apps: { ...apps, authentik: { ...apps.authentik, optional: false } } };
};
const infos = (lines: string[]) =>
  lines
    .map((l) => JSON.parse(l) as { kind: string; message?: string })
    .filter((e) => e.kind === "info")
    .map((e) => e.message);

describe("an image-only app on the local target", () => {
  it("deploy <it> prints the one line and changes nothing (no lock, no run, no release folder)", async () => {
    const t = await testContext({ env: { OPS_STATE_DIR: stateDir, OPS_ENV: "img-local" }, config: authentikOn });
    expect(t.ctx.target.notRunHere?.("authentik")).toBe(LINE);
    expect(t.ctx.target.notRunHere?.("client")).toBeUndefined();
    await deployCommand().run(t.ctx, { values: {}, positionals: ["authentik"] });
    expect(infos(t.lines)).toEqual([LINE]);
    expect(t.commands).toEqual([]);
  });

  it("rollback prints the line for it and plans only the apps that run here", async () => {
    const t = await testContext({ env: { OPS_STATE_DIR: stateDir, OPS_ENV: "img-local" }, config: authentikOn });
    const err = await rollbackCommand()
      .run(t.ctx, { values: {}, positionals: [] })
      .catch((e: Error) => e);
    // Nothing was deployed here, so the apps that run here have nothing to go back to; authentik is not among them.
    expect((err as Error).message).toBe(
      "nothing to roll back to for client (no earlier release that served), backend (no earlier release that served)",
    );
    expect(infos(t.lines)[0]).toBe(LINE);
  });

  it("logs of it on the local target: the one line, as a usage error pointing at fly", async () => {
    const t = await testContext({ env: { OPS_STATE_DIR: stateDir, OPS_ENV: "img-local" }, config: authentikOn });
    const err = await logsCommand()
      .run(t.ctx, { values: { app: "authentik" }, positionals: [] })
      .catch((e: Error & { fix?: string }) => e);
    expect((err as Error).message).toBe(`${LINE}, so it has no log here`);
    expect((err as { fix?: string }).fix).toBe("Read it where it runs: OPS_TARGET=fly pnpm ops:logs --app authentik.");
  });

  it("a command about an app that is off (its deploy task, rollback --app, logs --app) answers with its off line alone", () => {
    const off = new Map([["authentik", "authentik: off in img-local (FLY_APP_AUTHENTIK is not set in infra/fly/img-local.apps.env)"]]);
    expect(deployCommand().skipWhen?.({ positionals: ["authentik"], values: {}, appsOff: off })).toBe(off.get("authentik"));
    expect(deployCommand().skipWhen?.({ positionals: ["client"], values: {}, appsOff: off })).toBeUndefined();
    expect(rollbackCommand().skipWhen?.({ positionals: [], values: { app: "authentik" }, appsOff: off })).toBe(off.get("authentik"));
    expect(rollbackCommand().skipWhen?.({ positionals: [], values: {}, appsOff: off })).toBeUndefined();
    expect(logsCommand().skipWhen?.({ positionals: [], values: { app: "authentik" }, appsOff: off })).toBe(off.get("authentik"));
  });
});
