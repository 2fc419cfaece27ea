// What `--json` and verbose output show of the commands a step runs: every command the runner got
// as a `cmd` event before and a `cmd:end` after (exit code, duration), argv redacted, on success
// and on a failure path; and a `--json` dry run prints one `plan` value for its step, no actions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReporter } from "../../src/output/reporter.ts";
import { displayCommand, type Runner } from "../../src/runner/types.ts";
import { withCommandEvents } from "../../src/runner/with-events.ts";
import { createRedactor } from "../../src/secrets/redactor.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { deployCommand } from "../../src/steps/deploy.ts";
import { secretsCommand } from "../../src/steps/secrets.ts";
import { type FlySteps, flySteps, plantedValues } from "../setup/fly-steps.ts";
import { runStep, type StepRun } from "../setup/step-run.ts";

let w: FlySteps;
beforeAll(async () => {
  w = await flySteps("cmd-events");
});
afterAll(() => w?.close());

/** `cmd`/`cmd:end` events, as `$ command` and `exit N` lines. */
const commandEvents = (r: StepRun) =>
  r.events.flatMap((e) => (e.kind === "cmd" ? [`$ ${e.command}`] : e.kind === "cmd:end" ? [`exit ${e.exitCode}`] : []));

function expectEveryCommandShown(r: StepRun, exitCodes: (argv: string[]) => number) {
  expect(r.commands.length).toBeGreaterThan(0);
  expect(commandEvents(r)).toEqual(r.commands.flatMap((c) => [`$ ${displayCommand(c)}`, `exit ${exitCodes([c.file, ...c.args])}`]));
  for (const v of plantedValues()) expect(r.lines.join("\n")).not.toContain(v);
}

describe("cmd and cmd:end events", () => {
  it("a successful secrets sync shows every command it ran, values never", async () => {
    const r = await runStep(secretsCommand(), { positionals: ["sync"] }, w.context());
    expect(r.error).toBeUndefined();
    expect(r.commands.map((c) => c.args.slice(0, 2).join(" "))).toEqual(expect.arrayContaining(["secrets import", "secrets deploy"]));
    expectEveryCommandShown(r, () => 0);
    // The token reached flyctl only as a variable name in the events.
    expect(r.events.find((e) => e.kind === "cmd" && e.command.startsWith("flyctl"))).toMatchObject({
      envKeys: ["FLY_API_TOKEN", "FLY_NO_UPDATE_CHECK", "NO_COLOR"],
    });
  });

  it("a failed fly deploy shows the failing command with its exit code; its stderr, which echoed a secret, is redacted", async () => {
    const leak = plantedValues()[2]!;
    const r = await runStep(
      deployCommand(),
      { positionals: ["client"] },
      w.context({ failures: [{ match: (a) => a[1] === "deploy", message: `release command failed: BACKEND_AUTH_TOKEN=${leak}` }] }),
    );
    expect(r.error?.message).toContain("BACKEND_AUTH_TOKEN=[REDACTED]");
    expectEveryCommandShown(r, (argv) => (argv[1] === "deploy" ? 1 : 0));
    expect(r.events.find((e) => e.kind === "error")).toBeUndefined();
  });

  it("argv is redacted in the command lines, in --json and in verbose text, on success and failure", async () => {
    const planted = "argv-planted-7f3e";
    const redactor = createRedactor([new Secret(planted)]);
    for (const json of [true, false]) {
      const lines: string[] = [];
      const reporter = createReporter({ json, verbose: true, redactor, write: (l) => lines.push(l) });
      const runner: Runner = async (cmd) => ({
        ok: cmd.args[0] === "ok",
        exitCode: cmd.args[0] === "ok" ? 0 : 2,
        signal: null,
        stdout: "",
        stderr: "",
        durationMs: 3,
        command: displayCommand(cmd),
      });
      const run = withCommandEvents(runner, reporter);
      await run({ file: "tool", args: ["ok", `--token=${planted}`] });
      await run({ file: "tool", args: ["fail", `--token=${planted}`] });
      expect(lines.join("\n")).not.toContain(planted);
      if (json)
        expect(lines.map((l) => JSON.parse(l))).toEqual([
          { kind: "cmd", command: "tool ok --token=[REDACTED]", envKeys: [] },
          { kind: "cmd:end", command: "tool ok --token=[REDACTED]", exitCode: 0, durationMs: 3 },
          { kind: "cmd", command: "tool fail --token=[REDACTED]", envKeys: [] },
          { kind: "cmd:end", command: "tool fail --token=[REDACTED]", exitCode: 2, durationMs: 3 },
        ]);
      else expect(lines).toEqual(["  $ tool ok --token=[REDACTED]", "  $ tool fail --token=[REDACTED]", "  (exit 2 after 0.0s)"]);
    }
  });

  it("a --json dry run prints one plan value for its step and no action", async () => {
    const r = await runStep(deployCommand(), { positionals: ["backend"] }, w.context({ flags: { dryRun: true, json: true } }));
    const kinds = r.lines.map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(kinds.filter((k) => k === "plan")).toHaveLength(1);
    expect(kinds.filter((k) => k === "action" || k === "action:end")).toEqual([]);
    expect(r.events.find((e) => e.kind === "plan")).toMatchObject({ step: "deploy backend" });
  });
});
