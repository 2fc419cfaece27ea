// `pnpm ops:logs` on the fly target, through the pure argv builder and a recording runner (the
// flyctl stand-in does not implement `fly logs`): the exact argv, the selection applied to what
// flyctl printed, --follow streaming until aborted, and redaction of every line.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flyLogs } from "../../src/commands/fly.ts";
import type { RunOptions, Runner } from "../../src/runner/types.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { logsCommand } from "../../src/steps/logs.ts";
import { repoRoot, testContext } from "../setup/context.ts";

const ENV = `logs-unit-${process.pid}`;
const appsEnv = join(repoRoot, "infra", "fly", `${ENV}.apps.env`);
beforeAll(() =>
  writeFileSync(
    appsEnv,
    "FLY_REGION=iad\nFLY_APP_CLIENT=demo-client\nFLY_APP_BACKEND=demo-backend\nPUBLIC_URL=https://demo-client.fly.dev\n",
  ),
);
afterAll(() => rmSync(appsEnv, { force: true }));

const flyOut = [
  "2026-12-04T17:00:00Z app[e286] iad [info] GET / 200",
  "2026-12-04T17:05:00Z app[e286] iad [info] GET /healthz 200",
  "2026-12-04T17:10:00Z app[e286] iad [info] token=T0ken-planted-77 in a log line",
  "2026-12-04T17:15:00Z app[e286] iad [info] GET /healthz 200",
].join("\n");

const result = (stdout: string, stderr = "", extra: Partial<Awaited<ReturnType<Runner>>> = {}) => ({
  ok: true,
  exitCode: 0,
  signal: null,
  stdout,
  stderr,
  durationMs: 1,
  command: "flyctl logs",
  ...extra,
});

async function flyLogsRun(values: Record<string, unknown>, runner: Runner) {
  const t = await testContext({ env: { OPS_TARGET: "fly", OPS_ENV: ENV, FLY_API_TOKEN: "fo1_test-token" }, runner });
  t.ctx.addSecret(new Secret("T0ken-planted-77"));
  await logsCommand().run(t.ctx, { values, positionals: [] });
  return { ...t, events: t.lines.map((l) => JSON.parse(l) as { kind: string; line?: string; message?: string }) };
}

describe("flyLogs argv", () => {
  it("reads the buffer with --no-tail, streams without it", () => {
    expect(flyLogs("demo-client", { follow: false })).toEqual({ file: "flyctl", args: ["logs", "-a", "demo-client", "--no-tail"] });
    expect(flyLogs("demo-client", { follow: true })).toEqual({ file: "flyctl", args: ["logs", "-a", "demo-client"] });
  });
});

describe("pnpm ops:logs on the fly target", () => {
  it("runs fly logs --no-tail for the app's Fly name, with the token only in the environment, and applies -n and --grep", async () => {
    const { commands, events } = await flyLogsRun({ app: "client", lines: "2", grep: "healthz|token" }, async () => result(flyOut));
    expect(commands.map((c) => [c.file, ...c.args])).toEqual([["flyctl", "logs", "-a", "demo-client", "--no-tail"]]);
    expect(commands[0]!.env?.FLY_API_TOKEN).toBeInstanceOf(Secret);
    expect(events.filter((e) => e.kind === "log").map((e) => e.line)).toEqual([
      "2026-12-04T17:10:00Z app[e286] iad [info] token=[REDACTED] in a log line",
      "2026-12-04T17:15:00Z app[e286] iad [info] GET /healthz 200",
    ]);
    expect(JSON.stringify(events)).not.toContain("T0ken-planted-77");
  });

  it("passes on flyctl's warning that a deploy token may not read logs", async () => {
    const { events } = await flyLogsRun({ app: "backend" }, async () =>
      result("", "WARN not authorized to retrieve app logs (this can happen when using deploy tokens)\n"),
    );
    expect(events.find((e) => e.kind === "warn")?.message).toBe(
      "flyctl: WARN not authorized to retrieve app logs (this can happen when using deploy tokens)",
    );
  });

  it("--follow streams each line as flyctl prints it and ends cleanly when the signal aborts", async () => {
    let seenOpts: RunOptions | undefined;
    let stopped: (() => void) | undefined;
    const runner: Runner = (_cmd, opts) => {
      seenOpts = opts;
      for (const line of flyOut.split("\n")) opts!.onStdoutLine!(line);
      // flyctl keeps streaming until it is killed: resolve only on abort, as the zx runner does.
      return new Promise((resolve) => {
        stopped = () => resolve(result(flyOut, "", { ok: false, exitCode: null, signal: "SIGTERM" }));
        opts!.signal!.addEventListener("abort", stopped);
      });
    };
    const t = await testContext({ env: { OPS_TARGET: "fly", OPS_ENV: ENV, FLY_API_TOKEN: "fo1_test-token" }, runner });
    t.ctx.addSecret(new Secret("T0ken-planted-77"));
    const cleanups: (() => Promise<unknown>)[] = [];
    t.ctx.onInterrupt = (fn) => {
      cleanups.push(fn);
      return () => undefined;
    };
    const running = logsCommand().run(t.ctx, { values: { app: "client", follow: true, grep: "token|GET / " }, positionals: [] });
    await new Promise((r) => setTimeout(r, 20));
    expect(t.commands.map((c) => c.args)).toEqual([["logs", "-a", "demo-client"]]);
    expect(seenOpts?.signal?.aborted).toBe(false);
    for (const fn of cleanups) await fn(); // what runOps does on Ctrl-C for a command that ends on interrupt
    await running;
    const events = t.lines.map((l) => JSON.parse(l) as { kind: string; line?: string; data?: unknown });
    expect(events.filter((e) => e.kind === "log").map((e) => e.line)).toEqual([
      "2026-12-04T17:00:00Z app[e286] iad [info] GET / 200",
      "2026-12-04T17:10:00Z app[e286] iad [info] token=[REDACTED] in a log line",
    ]);
    expect(events.find((e) => e.kind === "result")?.data).toEqual({ source: "client", lines: 2, stopped: true });
  });

  it("knows only the apps of ops.config.ts on fly (no router or postgres)", async () => {
    await expect(flyLogsRun({ app: "postgres" }, async () => result(""))).rejects.toThrow('unknown app "postgres" for target fly');
    await expect(flyLogsRun({ app: "backnd" }, async () => result(""))).rejects.toThrow("did you mean backend?");
  });
});
