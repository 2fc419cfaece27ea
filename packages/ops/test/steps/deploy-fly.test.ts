// `deploy <app>` on the fly target, in-process with a scripted flyctl: the dry run prints the very
// `fly deploy` argv apply runs (link addresses included), writes nothing, and the failure paths
// (a failed `fly deploy`, public IPs on the internal app) name the app and release the lock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployCommand } from "../../src/steps/deploy.ts";
import { CURRENT, type FlySteps, flySteps, opsRows } from "../setup/fly-steps.ts";
import { type TestContext, testContext } from "../setup/context.ts";
import { argvOf, dryThenApply, runStep } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("deploy-fly");
});
afterAll(() => w?.close());

const RUN = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

describe("deploy on fly: the dry run is what apply runs", () => {
  it("backend: fly deploy with a remote build labelled with the run, no public IPs, then the IP check", async () => {
    const { printed, live } = await dryThenApply(deployCommand, { positionals: ["backend"] }, () => w.context(), {
      stateDir: w.stateDir,
      dbUrl: w.db.url,
    });
    expect(printed.map((a) => a.kind)).toEqual(["db", "cmd", "check", "db"]);
    const deploy = live.commands.find((c) => c.args[0] === "deploy")!;
    const run = deploy.args[deploy.args.indexOf("--image-label") + 1]!;
    expect(run).toMatch(RUN);
    expect(argvOf(deploy)).toEqual([
      "flyctl",
      "deploy",
      "-c",
      "infra/fly/backend.fly.toml",
      "-a",
      w.apps.backend,
      "--remote-only",
      "--image-label",
      run,
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "--no-public-ips",
      "-e",
      `RELEASE_ID=${run}`,
      "--yes",
    ]);
    expect(printed[2]!.argv).toEqual(["flyctl", "ips", "list", "--json", "-a", w.apps.backend]);
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "deploy", status: "succeeded", releases: { backend: { from: CURRENT, to: run } } });
  });

  it("client: the printed argv carries the backend's internal address, as the real deploy does", async () => {
    const { printed } = await dryThenApply(deployCommand, { positionals: ["client"] }, () => w.context(), {
      stateDir: w.stateDir,
      dbUrl: w.db.url,
    });
    const deploy = printed.find((a) => a.kind === "cmd")!;
    expect(deploy.argv).toContain(`BACKEND_GRPC_ADDR=${w.apps.backend}.internal:50051`);
    expect(deploy.argv).not.toContain("--no-public-ips");
    // A public app gets no IP check.
    expect(printed.map((a) => a.kind)).toEqual(["db", "cmd", "db"]);
  });
});

describe("deploy on fly: failures", () => {
  it("a fly deploy that times out on health checks names the app and the previous release, and releases the lock", async () => {
    const before = (await opsRows(w.db, w.env)).history.length;
    const r = await runStep(
      deployCommand(),
      { positionals: ["client"] },
      w.context({
        failures: [
          {
            match: (argv) => argv[1] === "deploy",
            message: "timeout reached waiting for health checks to pass for machine e2865001b: context deadline exceeded",
          },
        ],
      }),
    );
    expect(r.error?.name).toBe("DeployError");
    expect(r.error?.message).toBe(
      `fly deploy of ${w.apps.client} failed: flyctl error\n    Error: timeout reached waiting for health checks to pass for machine e2865001b: context deadline exceeded`,
    );
    expect(r.error?.where).toBe(w.apps.client);
    expect(r.error?.fix).toContain(`The previous release was v2 (registry.fly.io/${w.apps.client}:${CURRENT})`);
    expect(r.error?.fix).toContain("`pnpm ops:rollback --app client`");
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history).toHaveLength(before + 1);
    expect(history.at(-1)).toMatchObject({ kind: "deploy", status: "failed", releases: {} });
  });

  it("an internal app that has public IPs fails after its deploy with the addresses and how to release them", async () => {
    const world = w.world();
    world.apps[w.apps.backend]!.ips = ["private_v6", "shared_v4"];
    const r = await runStep(deployCommand(), { positionals: ["backend"] }, w.context({ world }));
    expect(r.error?.name).toBe("DeployError");
    expect(r.error?.message).toBe(`${w.apps.backend} must be internal but has public IPs: 66.241.125.2 (shared_v4)`);
    expect(r.error?.fix).toContain(`fly ips release 66.241.125.2 -a ${w.apps.backend}`);
    expect((await opsRows(w.db, w.env)).locked).toBe(false);
  });

  it("an app without a fly.toml in ops.config.ts is refused before anything runs", async () => {
    const opts = w.context();
    const r = await runStep(
      deployCommand(),
      { positionals: ["client"] },
      {
        ...opts,
        config: (written) => {
          const c = opts.config!(written) as { apps: Record<string, Record<string, unknown>> };
          const { fly: _fly, ...client } = c.apps.client!;
          return { ...c, apps: { ...c.apps, client } };
        },
      },
    );
    expect(r.error?.message).toBe("apps.client.fly is not set in ops.config.ts");
    expect(r.error?.fix).toBe("Give the app a fly.toml: fly: { config, public }.");
    expect(r.commands.filter((c) => c.file === "flyctl")).toEqual([]);
  });

  it("an unknown app is a usage error naming the apps", async () => {
    const r = await runStep(deployCommand(), { positionals: ["frontend"] }, w.context());
    expect(r.error?.message).toBe('deploy needs an app name; "frontend" is not one');
    expect(r.error?.fix).toBe("Use one of: backend, client.");
  });

  it("an interrupt during fly deploy releases the deploy lock through ctx.onInterrupt", async () => {
    const opts = w.context();
    const fly = opts.runner!;
    const seen: boolean[] = [];
    let t: TestContext | undefined;
    t = await testContext({
      ...opts,
      runner: async (cmd, o) => {
        if (cmd.args[0] === "deploy") {
          // Ctrl-C while flyctl deploys: the boundary runs what the step registered.
          seen.push((await opsRows(w.db, w.env)).locked);
          await t!.interrupt();
          seen.push((await opsRows(w.db, w.env)).locked);
        }
        return fly(cmd, o);
      },
    });
    await deployCommand().run(t.ctx, { values: {}, positionals: ["client"] });
    expect(seen).toEqual([true, false]);
  });
});
