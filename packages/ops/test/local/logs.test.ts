// The local log reader on fabricated release folders: which file each source is, -n/--since/--grep,
// the messages when there is no log, --follow across appends and a new release, and the step's
// output (redacted, did-you-mean).
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OpsError, UsageError } from "../../src/errors.ts";
import { followLocalLog, localLogFile, readLocalLog } from "../../src/local/logs.ts";
import { localPaths, type LocalPaths } from "../../src/local/paths.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { logsCommand } from "../../src/steps/logs.ts";
import { testContext } from "../setup/context.ts";

const APPS = ["backend", "client"];
let stateDir: string;
let paths: LocalPaths;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "ops-logs-"));
  paths = localPaths(stateDir, "logs");
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

/** A release folder with a log, recorded as the app's current release. */
function release(app: string, id: string, lines: string[]): string {
  const dir = paths.releaseDir(app, id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "release.log");
  writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
  writeFileSync(
    paths.appState(app),
    JSON.stringify({ current: id, releases: [{ id, createdAt: "2026-12-04T17:00:00Z", gitSha: "abc", runId: id, status: "serving" }] }),
  );
  return file;
}

const clientLines = Array.from(
  { length: 30 },
  (_, i) => `[supervisor 2026-12-04T17:${String(i).padStart(2, "0")}:00.000Z] client line ${i + 1}`,
);

describe("localLogFile: where each source logs", () => {
  it("an app: its current release's release.log", () => {
    release("client", "r1", ["x"]);
    const file = release("client", "r2", ["y"]);
    expect(localLogFile(paths, APPS, "client", "logs")).toEqual({ path: file, release: "r2" });
  });

  it("the router and Postgres: their files in the state folder", () => {
    mkdirSync(paths.routerDir, { recursive: true });
    writeFileSync(paths.routerLog, "[router 2026-12-04T17:00:00.000Z] listening\n");
    mkdirSync(paths.postgresDir, { recursive: true });
    writeFileSync(paths.postgresLog, "2026-12-04 17:00:00.000 UTC [1] LOG:  ready\n");
    expect(localLogFile(paths, APPS, "router", "logs").path).toBe(join(stateDir, "local", "logs", "router", "router.log"));
    expect(localLogFile(paths, APPS, "postgres", "logs").path).toBe(join(stateDir, "local", "logs", "postgres", "postgres.log"));
  });

  it("says why there is no log, and how to get one", () => {
    const never = (() => {
      try {
        localLogFile(paths, APPS, "backend", "logs");
      } catch (e) {
        return e as OpsError;
      }
    })();
    expect(never).toBeInstanceOf(OpsError);
    expect(never!.message).toBe('backend has no release in environment "logs" yet, so it has no log');
    expect(never!.fix).toBe("Deploy first: `pnpm turbo run production-deploy`.");

    mkdirSync(paths.releaseDir("client", "r9"), { recursive: true });
    writeFileSync(paths.appState("client"), JSON.stringify({ current: "r9", releases: [] }));
    expect(() => localLogFile(paths, APPS, "client", "logs")).toThrow("release r9 of client has no log file");

    expect(() => localLogFile(paths, APPS, "router", "logs")).toThrow(
      'the router of environment "logs" has not run yet, so there is no log',
    );
    expect(() => localLogFile(paths, APPS, "postgres", "logs")).toThrow(
      'the local Postgres of environment "logs" has not run yet, so there is no log',
    );
  });
});

describe("readLocalLog: -n, --since, --grep", () => {
  it("tails, filters by time and by pattern, and returns the size --follow starts from", () => {
    const file = release("client", "r1", clientLines);
    expect(readLocalLog(file, { lines: 3 }).lines).toEqual(clientLines.slice(27));
    expect(readLocalLog(file, { lines: 100, sinceEpochMs: Date.parse("2026-12-04T17:25:00Z") }).lines).toEqual(clientLines.slice(25));
    expect(readLocalLog(file, { lines: 100, grep: /line (7|17)$/ }).lines).toEqual([clientLines[6], clientLines[16]]);
    expect(readLocalLog(file, { lines: 1 }).size).toBe(clientLines.join("\n").length + 1);
  });
});

describe("followLocalLog", () => {
  it("prints appended lines (grep applied), follows a new current release, and ends when aborted", async () => {
    const first = release("client", "r1", ["old"]);
    const seen: string[] = [];
    const switched: string[] = [];
    const stop = new AbortController();
    const appended = (n: number) =>
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (seen.length >= n) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
    const following = followLocalLog({
      locate: () => localLogFile(paths, APPS, "client", "logs"),
      from: { path: first, release: "r1", offset: readLocalLog(first, { lines: 0 }).size },
      grep: /keep/,
      onLine: (l) => seen.push(l),
      onSwitch: (to) => switched.push(to.release!),
      signal: stop.signal,
      pollMs: 10,
    });
    appendFileSync(first, "keep 1\ndrop 2\nkeep ");
    appendFileSync(first, "3\n");
    await appended(2);
    release("client", "r2", ["keep from r2"]);
    await appended(3);
    stop.abort();
    await following;
    expect(seen).toEqual(["keep 1", "keep 3", "keep from r2"]);
    expect(switched).toEqual(["r2"]);
  });
});

describe("pnpm ops:logs on the local target (the step, in-process)", () => {
  const run = async (values: Record<string, unknown>, planted?: string) => {
    const t = await testContext({ env: { OPS_STATE_DIR: stateDir, OPS_ENV: "logs", OPS_TARGET: "local" } });
    if (planted) t.ctx.addSecret(new Secret(planted));
    await logsCommand().run(t.ctx, { values, positionals: [] });
    return t.lines.map((l) => JSON.parse(l) as { kind: string; line?: string; message?: string });
  };

  it("emits the selected lines as log events, each redacted", async () => {
    const planted = "pl4nted-S3CRET-value-9f2c";
    release("client", "r1", [
      ...clientLines.slice(0, 5),
      `[supervisor 2026-12-04T17:40:00.000Z] SESSION_SECRET=${planted} leaked by the app`,
    ]);
    const events = await run({ app: "client", lines: "2" }, planted);
    expect(events.filter((e) => e.kind === "log").map((e) => e.line)).toEqual([
      clientLines[4],
      "[supervisor 2026-12-04T17:40:00.000Z] SESSION_SECRET=[REDACTED] leaked by the app",
    ]);
    expect(JSON.stringify(events)).not.toContain(planted);
  });

  it("warns when --since cannot apply to a log without timestamps", async () => {
    release("client", "r1", ["a", "b"]);
    const events = await run({ app: "client", since: "10m" });
    expect(events.find((e) => e.kind === "warn")?.message).toMatch(/release\.log has no timestamps, so --since cannot filter it/);
    expect(events.filter((e) => e.kind === "log").map((e) => e.line)).toEqual(["a", "b"]);
  });

  it("names the closest source for an unknown --app, from the config's apps plus router and postgres", async () => {
    await expect(run({ app: "clinet" })).rejects.toSatisfy(
      (e) => e instanceof UsageError && e.message === 'unknown app "clinet" for target local; did you mean client?' && e.where === "--app",
    );
    await expect(run({ app: "routr" })).rejects.toThrow("did you mean router?");
    const err = await run({ app: "nope" }).catch((e: OpsError) => e);
    expect((err as OpsError).fix).toBe("Use one of: backend, client, router, postgres.");
    await expect(run({})).rejects.toThrow("which log? --app is missing");
    await expect(run({ app: "client", lines: "ten" })).rejects.toThrow('-n "ten" is not a number of lines');
    await expect(run({ app: "client", grep: "(" })).rejects.toThrow('--grep "(" is not a regular expression');
  });
});
