// `secrets sync|list|rotate` on the fly target, in-process with a scripted flyctl: the dry run
// prints the imports (values on stdin only) and `fly secrets deploy` commands apply runs, writes
// no schema, ledger row or file; a failed import or apply says what is live where.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretsCommand } from "../../src/steps/secrets.ts";
import { type FlySteps, flySteps, opsRows, PLANTED, plantedValues } from "../setup/fly-steps.ts";
import { argvOf, dryThenApply, planEvents, runStep, snapshot } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("secrets-fly");
});
afterAll(() => w?.close());

const seen = () => ({ stateDir: w.stateDir, dbUrl: w.db.url });

async function ledger() {
  const c = await w.db.connect();
  try {
    return (await c.query("SELECT app, key, fly_digest FROM ops.secret_ledger WHERE environment = $1 ORDER BY app, key", [w.env])).rows;
  } finally {
    await c.end();
  }
}

describe("secrets on fly", () => {
  it("list: shows the imports a sync would run, runs only reads and writes nothing", async () => {
    const before = await snapshot(w.stateDir, w.db.url);
    const r = await runStep(secretsCommand(), { positionals: ["list"] }, w.context());
    expect(r.error).toBeUndefined();
    expect(await snapshot(w.stateDir, w.db.url)).toEqual(before);
    expect(r.commands.map(argvOf)).toEqual([
      ["flyctl", "secrets", "list", "--json", "-a", w.apps.backend],
      ["flyctl", "secrets", "list", "--json", "-a", w.apps.client],
    ]);
    const plans = planEvents(r);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.actions!.filter((a) => a.kind === "cmd").map((a) => [a.argv, a.stdinKeys])).toEqual([
      [
        ["flyctl", "secrets", "import", "--stage", "-a", w.apps.backend],
        ["DATABASE_URL", "BACKEND_AUTH_TOKEN"],
      ],
      [
        ["flyctl", "secrets", "import", "--stage", "-a", w.apps.client],
        ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"],
      ],
    ]);
  });

  it("sync: stages each app's keys (values on stdin), records the digests Fly reports, then applies them", async () => {
    const { printed, live } = await dryThenApply(secretsCommand, { positionals: ["sync"] }, () => w.context(), seen());
    expect(printed.map((a) => `${a.kind} ${a.argv?.slice(1).join(" ") ?? a.description}`)).toEqual([
      expect.stringMatching(/^db take the deploy lock/),
      "db create the ops schema (deploy lock, history, secret ledger) in the target database",
      "db store a new random ledger key in ops.settings (OPS_LEDGER_KEY is not set)",
      `cmd secrets import --stage -a ${w.apps.backend}`,
      `check secrets list --json -a ${w.apps.backend}`,
      `db record 2 fingerprints for ${w.apps.backend} in ops.secret_ledger`,
      `cmd secrets import --stage -a ${w.apps.client}`,
      `check secrets list --json -a ${w.apps.client}`,
      `db record 2 fingerprints for ${w.apps.client} in ops.secret_ledger`,
      `cmd secrets deploy -a ${w.apps.backend}`,
      `cmd secrets deploy -a ${w.apps.client}`,
      expect.stringMatching(/^db record run \S+ as succeeded/),
    ]);
    // The values went to flyctl on stdin, and only there.
    const fly = w.lastFly();
    const imports = fly.calls.map((c, i) => [c, fly.stdin[i]!] as const).filter(([c]) => c[2] === "import");
    expect(imports.map(([, stdin]) => stdin.split("\n").filter(Boolean).length)).toEqual([2, 2]);
    expect(imports[0]![1]).toContain(PLANTED.auth);
    for (const v of plantedValues()) {
      expect(live.lines.join("\n")).not.toContain(v);
      expect(live.commands.flatMap((c) => c.args).join(" ")).not.toContain(v);
    }
    const digests = Object.fromEntries(fly.world.apps[w.apps.client]!.secrets.map((s) => [s.name, s.digest]));
    expect((await ledger()).filter((r) => r.app === "client")).toEqual([
      { app: "client", key: "BACKEND_AUTH_TOKEN", fly_digest: digests.BACKEND_AUTH_TOKEN },
      { app: "client", key: "SESSION_SECRET", fly_digest: digests.SESSION_SECRET },
    ]);
    expect(fly.world.apps[w.apps.client]!.secrets.every((s) => s.status === "Deployed")).toBe(true);

    // Against what Fly now holds, a second sync has nothing to stage or apply.
    const again = await runStep(secretsCommand(), { positionals: ["sync"] }, w.context({ world: fly.world, flags: { dryRun: true } }));
    expect(planEvents(again)[0]!.actions!.map((a) => a.kind)).toEqual(["db", "db"]);
  });

  it("sync --stage-only: stages, records, and leaves the apply to the next deploy", async () => {
    const r = await runStep(secretsCommand(), { positionals: ["sync"], values: { "stage-only": true } }, w.context());
    expect(r.error).toBeUndefined();
    expect(r.commands.map(argvOf).filter((a) => a[2] === "deploy")).toEqual([]);
    expect(r.events).toContainEqual({
      kind: "warn",
      message: "--stage-only: 2 apps keep the staged values until the next deploy",
      fix: "The next deploy applies them, or run `pnpm ops:secrets sync` without --stage-only.",
    });
  });

  it("a failed apply on the second app names what is live where and the commands that finish it", async () => {
    const r = await runStep(
      secretsCommand(),
      { positionals: ["sync"] },
      w.context({
        failures: [{ match: (a) => a[2] === "deploy" && a.includes(w.apps.client), message: "no machines available to deploy" }],
      }),
    );
    expect(r.error?.name).toBe("DeployError");
    expect(r.error?.message).toBe(
      [
        `applying staged secrets failed on ${w.apps.client}: fly secrets deploy of ${w.apps.client} failed: flyctl error`,
        "    Error: no machines available to deploy",
        `  ${w.apps.backend}: DATABASE_URL, BACKEND_AUTH_TOKEN new and live`,
        `  ${w.apps.client}: SESSION_SECRET, BACKEND_AUTH_TOKEN staged, not live (the old values serve) (this apply failed)`,
        `  split: BACKEND_AUTH_TOKEN has the new value on ${w.apps.backend} and the old one on ${w.apps.client}`,
      ].join("\n"),
    );
    expect(r.error?.fix).toBe(
      `Fix the cause (\`fly status -a ${w.apps.client}\`), then apply what is still staged: \`fly secrets deploy -a ${w.apps.client}\`.`,
    );
    const { history, locked } = await opsRows(w.db, w.env);
    expect(locked).toBe(false);
    expect(history.at(-1)).toMatchObject({ kind: "secrets", status: "failed" });
    expect(JSON.stringify(r.events)).not.toContain(PLANTED.auth);
  });

  it("a failed import stops before the next app and releases the lock; the values never show", async () => {
    const r = await runStep(
      secretsCommand(),
      { positionals: ["sync"] },
      w.context({
        failures: [
          { match: (a) => a[2] === "import" && a.includes(w.apps.backend), message: `could not parse secrets: '${PLANTED.auth}'` },
        ],
      }),
    );
    expect(r.error?.message).toBe(
      `staging 2 secrets on ${w.apps.backend} failed: flyctl error\n    Error: could not parse secrets: '[REDACTED]'`,
    );
    expect(r.commands.map(argvOf).filter((a) => a[1] === "secrets" && a[2] !== "list")).toEqual([
      ["flyctl", "secrets", "import", "--stage", "-a", w.apps.backend],
    ]);
    expect((await opsRows(w.db, w.env)).locked).toBe(false);
    expect(r.lines.join("\n")).not.toContain(PLANTED.auth);
  });

  it("rotate: writes the new value and stages it on the apps that use the key, as the dry run printed", async () => {
    const file = join(w.stateDir, "rotate.env");
    writeFileSync(file, `DATABASE_URL=${PLANTED.databaseUrl}\nSESSION_SECRET=${PLANTED.session}\nBACKEND_AUTH_TOKEN=${PLANTED.auth}\n`);
    chmodSync(file, 0o600);
    // Start from a Fly that holds what the ledger records: only the rotated key changes.
    expect((await runStep(secretsCommand(), { positionals: ["sync"] }, w.context())).error).toBeUndefined();
    const synced = w.lastFly().world;
    const { printed, live } = await dryThenApply(
      secretsCommand,
      { positionals: ["rotate", "BACKEND_AUTH_TOKEN"] },
      () => w.context({ world: synced, env: { OPS_SECRETS_FILE: file } }),
      seen(),
    );
    expect(printed[1]).toMatchObject({ kind: "file", path: file });
    expect(printed.filter((a) => a.kind === "cmd").map((a) => [a.argv, a.stdinKeys])).toEqual([
      [["flyctl", "secrets", "import", "--stage", "-a", w.apps.backend], ["BACKEND_AUTH_TOKEN"]],
      [["flyctl", "secrets", "import", "--stage", "-a", w.apps.client], ["BACKEND_AUTH_TOKEN"]],
    ]);
    const rotated = readFileSync(file, "utf8").match(/^BACKEND_AUTH_TOKEN=(.*)$/m)![1]!;
    expect(rotated).not.toBe(PLANTED.auth);
    const fly = w.lastFly();
    const staged = fly.stdin.filter((s) => s.includes("BACKEND_AUTH_TOKEN="));
    expect(staged).toHaveLength(2);
    for (const s of staged) expect(s).toContain(rotated);
    expect(live.lines.join("\n")).not.toContain(rotated);
  });
});
