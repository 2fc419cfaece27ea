// `pnpm ops:logs` as a user runs it (the real entry script, the CLI boundary), on a fabricated
// local release folder: the client's last lines, a secret value from the environment's secrets
// file redacted in a log line, and --follow ended by SIGINT with exit 0.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localPaths } from "../../src/local/paths.ts";
import { freshEnvironment, inherited, pnpm, prebuiltStep, repoRoot } from "./harness.ts";

const PLANTED = "e2e-pl4nted-session-secret-0b7d";

async function fabricated() {
  const env = await freshEnvironment("logs");
  const paths = localPaths(env.OPS_STATE_DIR!, env.OPS_ENV!);
  const dir = paths.releaseDir("client", "20261204-170000-abcd");
  mkdirSync(dir, { recursive: true });
  const lines = Array.from(
    { length: 40 },
    (_, i) => `[supervisor 2026-12-04T17:${String(i).padStart(2, "0")}:00.000Z] client log line ${i + 1}`,
  );
  lines.push(`client: request failed: session ${PLANTED} rejected`);
  writeFileSync(join(dir, "release.log"), lines.map((l) => `${l}\n`).join(""));
  writeFileSync(
    paths.appState("client"),
    JSON.stringify({
      current: "20261204-170000-abcd",
      releases: [
        { id: "20261204-170000-abcd", createdAt: "2026-12-04T17:00:00Z", gitSha: "abc", runId: "20261204-170000-abcd", status: "serving" },
      ],
    }),
  );
  writeFileSync(paths.secretsFile, `SESSION_SECRET=${PLANTED}\n`, { mode: 0o600 });
  return { env, lines, log: join(dir, "release.log") };
}

describe("pnpm ops:logs (local target, fabricated release)", () => {
  it("prints the client's last 20 lines with the planted secret redacted", async () => {
    const { env, lines } = await fabricated();
    const res = await pnpm(["ops:logs", "--app", "client", "-n", "20"], env);
    expect(res.code).toBe(0);
    const printed = res.out.split("\n").filter((l) => l.startsWith("[supervisor") || l.startsWith("client:"));
    expect(printed).toEqual([...lines.slice(21, 40), "client: request failed: session [REDACTED] rejected"]);
    expect(res.out).not.toContain(PLANTED);
  });

  it("--follow prints appended lines and ends cleanly on SIGINT", async () => {
    const { env, log } = await fabricated();
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...inherited(), ...env })) if (v !== undefined) merged[k] = v;
    const child = spawn(process.execPath, prebuiltStep("logs", ["--app", "client", "-n", "1", "--follow"]), {
      cwd: repoRoot,
      env: merged,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => (out.includes(text) ? resolve() : setTimeout(check, 20));
        check();
      });
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await seen("(Ctrl-C stops)");
    appendFileSync(log, `appended after start, secret ${PLANTED}\n`);
    await seen("appended after start");
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("appended after start, secret [REDACTED]");
    expect(out).toMatch(/✔ logs done in/);
    expect(out).not.toContain("interrupted");
    expect(out).not.toContain(PLANTED);
  });
});
