// `rollback` on the fly target, in-process with a scripted flyctl and a loopback site for the
// smoke checks: each app goes back to the image of its previous release with `fly deploy --image
// … --skip-release-command`, exactly as the dry run printed; failures name the app and release the lock.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rollbackCommand } from "../../src/steps/rollback.ts";
import { CURRENT, type FlySteps, flySteps, OLD, opsRows } from "../setup/fly-steps.ts";
import { refRelease } from "../setup/scripted-fly.ts";
import { argvOf, dryThenApply, runStep } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("rollback-fly");
});
afterAll(() => w?.close());
afterEach(() => {
  w.site.mode = "healthy";
});

const seen = () => ({ stateDir: w.stateDir, dbUrl: w.db.url });

describe("rollback on fly", () => {
  it("every app back to the image of v1, last deployed first, then the smoke checks prove the old releases", async () => {
    const { printed, live } = await dryThenApply(rollbackCommand, {}, () => w.context(), seen());
    expect(printed.map((a) => a.kind)).toEqual(["db", "cmd", "cmd", "check", "http", "check", "db"]);
    expect(printed[1]!.argv).toEqual([
      "flyctl",
      "deploy",
      "-c",
      "infra/fly/client.fly.toml",
      "-a",
      w.apps.client,
      "--image",
      `registry.fly.io/${w.apps.client}:${OLD}`,
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "--skip-release-command",
      "-e",
      `BACKEND_GRPC_ADDR=${w.apps.backend}.internal:50051`,
      "-e",
      `RELEASE_ID=${OLD}`,
      "--yes",
    ]);
    expect(printed[2]!.argv).toContain("--no-public-ips");
    expect(printed[4]!.description).toContain(`proving backend=${OLD}, client=${OLD}`);
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({
      kind: "rollback",
      status: "succeeded",
      releases: { client: { from: CURRENT, to: OLD }, backend: { from: CURRENT, to: OLD } },
    });
    const from = (app: string) => `2 machines on registry.fly.io/${app}:${CURRENT} (v2)`;
    const choices = [
      `client: ${from(w.apps.client)} → v1 registry.fly.io/${w.apps.client}:${OLD}`,
      `backend: ${from(w.apps.backend)} → v1 registry.fly.io/${w.apps.backend}:${OLD}`,
    ];
    // The choices show once, before the first action; the actions count as the dry run printed them.
    const infos = live.events.filter((e) => e.kind === "info").map((e) => (e as { message: string }).message);
    expect(infos.filter((m) => m.includes(" → v1 "))).toEqual(choices);
    const firstAction = live.events.findIndex((e) => e.kind === "action");
    expect(live.events.findIndex((e) => e.kind === "info" && e.message === choices[0])).toBeLessThan(firstAction);
    const numbering = live.events.flatMap((e) => (e.kind === "action" ? [`${e.index}/${e.total}`] : []));
    expect(numbering).toEqual(printed.map((_, i) => `${i + 1}/${printed.length}`));
  });

  it("--app client --to v1: only that app", async () => {
    const { printed } = await dryThenApply(rollbackCommand, { values: { app: "client", to: "v1" } }, () => w.context(), seen());
    expect(printed.filter((a) => a.kind === "cmd").map((a) => a.argv![5])).toEqual([w.apps.client]);
  });

  it("a failed fly deploy --image names the app and releases the lock", async () => {
    const r = await runStep(
      rollbackCommand(),
      { values: { app: "backend" } },
      w.context({ failures: [{ match: (a) => a[1] === "deploy", message: "failed to fetch an image or build from source: not found" }] }),
    );
    expect(r.error?.name).toBe("RollbackError");
    expect(r.error?.message).toBe(
      `rollback of ${w.apps.backend} to v1 failed: flyctl error\n    Error: failed to fetch an image or build from source: not found`,
    );
    expect(r.error?.fix).toBe(`Check \`fly status -a ${w.apps.backend}\`; try another target with --to vN.`);
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "rollback", status: "failed" });
  });

  it("a rollback that fails on its second app records the app that did go back", async () => {
    const r = await runStep(
      rollbackCommand(),
      {},
      w.context({
        failures: [
          {
            match: (a) => a[1] === "deploy" && a.includes(w.apps.backend),
            message: "failed to fetch an image or build from source: not found",
          },
        ],
      }),
    );
    expect(r.error?.message).toMatch(new RegExp(`^rollback of ${w.apps.backend} to v1 failed: `));
    const { history } = await opsRows(w.db, w.env);
    expect(history.at(-1)).toMatchObject({ kind: "rollback", status: "failed", releases: { client: { to: OLD } } });
    expect(Object.keys(history.at(-1)!.releases as object)).toEqual(["client"]);
  });

  it("rolled-back releases that fail the smoke checks fail the rollback with the report path", async () => {
    w.site.mode = "wrong-schema";
    const r = await runStep(rollbackCommand(), { values: { app: "client" } }, w.context());
    expect(r.error?.name).toBe("RollbackError");
    expect(r.error?.message).toBe(
      "the rolled-back releases do not pass the smoke checks: healthz proves the release (schema version 1, expected 2)",
    );
    expect(r.error?.where).toMatch(/smoke-report\.json$/);
    expect((await opsRows(w.db, w.env)).locked).toBe(false);
  });

  it("an app with one release has nothing to roll back to: refused before the lock, no command that changes anything", async () => {
    const world = w.world();
    world.apps[w.apps.backend]!.releases = [refRelease(1, `registry.fly.io/${w.apps.backend}:${CURRENT}`)];
    const r = await runStep(rollbackCommand(), { values: { app: "backend" } }, w.context({ world }));
    expect(r.error?.name).toBe("RollbackError");
    expect(r.error?.message).toMatch(/^nothing to roll back to for backend \(.+\)$/);
    expect(r.error?.fix).toBe("See `pnpm ops:status` and `pnpm ops:history`.");
    expect(r.commands.map(argvOf).filter((a) => a[1] === "deploy")).toEqual([]);
  });

  it("--to without --app is a usage error", async () => {
    const r = await runStep(rollbackCommand(), { values: { to: "v1" } }, w.context());
    expect(r.error?.message).toBe("--to needs --app (releases are per app)");
  });
});
