// A mistyped flag is refused before anything loads, with the nearest real flag and the list of
// options a user can type (not the internal --pipeline that turbo tasks pass); so are an option
// given twice and a mistyped app name.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const execFileAsync = promisify(execFile);

/** Runs a prebuilt command as `pnpm ops:<script>` does, on the local target; its exit code and output. */
function cli(args: string[]): Promise<{ code: number; out: string }> {
  return execFileAsync(process.execPath, ["packages/ops/prebuild/run.mjs", ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", NO_COLOR: "1", OPS_TARGET: "local" },
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

it("names the nearest option and the options a user can pass", { timeout: 120_000 }, async () => {
  const res = await cli(["history", "--wdie"]);
  expect(res.code).toBe(2);
  expect(res.out).toContain("✖ history: unknown option --wdie; did you mean --wide?");
  expect(res.out).toContain("fix: Options: --dry-run, --json, --target, --env, --lock-wait, --yes, --help, --limit, --wide. See --help.");
  expect(res.out).not.toContain("--pipeline");
  expect(res.out).not.toContain("    at ");
});

it("refuses an option given twice with different values instead of keeping the last one", { timeout: 120_000 }, async () => {
  const res = await cli(["rollback", "--app", "client", "--app", "backend", "--dry-run"]);
  expect(res.code).toBe(2);
  expect(res.out).toContain("✖ rollback: --app was given 2 times (client, backend); it takes one value");
  expect(res.out).toContain("fix: Give --app once; to act on several, run the command once for each.");
});

it("names the nearest app for a mistyped --app", { timeout: 120_000 }, async () => {
  const res = await cli(["rollback", "--app", "clinet", "--dry-run"]);
  expect(res.code).toBe(2);
  expect(res.out).toContain('✖ rollback: --app "clinet" is not an app; did you mean client?');
});
