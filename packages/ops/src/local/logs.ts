/**
 * The logs of the local target, read from the files its processes write: each release's
 * `release.log` (the supervisor's lines and the app's stdout/stderr) in its release folder, the
 * router's `router/router.log` and the embedded Postgres' `postgres/postgres.log`.
 */
import { existsSync, readFileSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { ConfigError } from "../errors.ts";
import { LineBuffer, selectLogLines, splitLines, type LogSelection } from "../logs/lines.ts";
import { readAppState } from "./app-state.ts";
import type { LocalPaths } from "./paths.ts";

/** The non-app log sources of the local target (the app names come from ops.config.ts). */
export const LOCAL_PROCESS_LOGS = ["router", "postgres"] as const;

/** One log file, and the release it belongs to (apps only). */
export interface LocalLogFile {
  path: string;
  release?: string;
}

/**
 * Where the log of `source` is now: an app's current release, the router, or Postgres.
 * @throws {ConfigError} when the source wrote no log yet (never deployed, never started), saying how to get one.
 */
export function localLogFile(paths: LocalPaths, apps: readonly string[], source: string, environment: string): LocalLogFile {
  if (apps.includes(source)) {
    const state = readAppState(paths, source);
    if (!state.current) {
      throw new ConfigError(`${source} has no release in environment "${environment}" yet, so it has no log`, {
        where: paths.appState(source),
        fix: "Deploy first: `pnpm turbo run production-deploy`.",
      });
    }
    const path = join(paths.releaseDir(source, state.current), "release.log");
    if (!existsSync(path)) {
      throw new ConfigError(`release ${state.current} of ${source} has no log file`, {
        where: path,
        fix: "The log appears once the release has been started: `pnpm ops:local up` starts the current releases.",
      });
    }
    return { path, release: state.current };
  }
  const path = source === "router" ? paths.routerLog : paths.postgresLog;
  if (!existsSync(path)) {
    throw new ConfigError(
      `the ${source === "router" ? "router" : "local Postgres"} of environment "${environment}" has not run yet, so there is no log`,
      {
        where: path,
        fix: existsSync(paths.root)
          ? "Start it with `pnpm ops:local up`."
          : "Nothing was deployed here yet: run `pnpm turbo run production-deploy`.",
      },
    );
  }
  return { path };
}

/**
 * The selected lines of a log file (`-n`, `--since`, `--grep`) and its size, where `--follow`
 * goes on from.
 */
export function readLocalLog(path: string, sel: LogSelection): { lines: string[]; undated: boolean; size: number } {
  const buf = readFileSync(path);
  return { ...selectLogLines(splitLines(buf.toString("utf8")), sel), size: buf.length };
}

export interface FollowOptions {
  /** Where the log is now (re-read each poll: a deploy moves an app's log to the new release's folder). */
  locate: () => LocalLogFile;
  /** Where the first file is read on from (its size when the tail was printed). */
  from: LocalLogFile & { offset: number };
  /** Only lines this matches. */
  grep?: RegExp;
  onLine: (line: string) => void;
  /** A new release took over: its log is followed from its start. */
  onSwitch?: (to: LocalLogFile) => void;
  /** Ends the follow. */
  signal: AbortSignal;
  /** @default 250 */
  pollMs?: number;
}

/**
 * `--follow`: prints lines as they are appended, until `signal` aborts. A file that shrinks
 * (truncated) is read again from its start; a new current release is followed from its start.
 */
export async function followLocalLog(opts: FollowOptions): Promise<void> {
  let file: LocalLogFile = opts.from;
  let offset = opts.from.offset;
  let buffer = new LineBuffer();
  // A character cut between two reads is decoded once its last byte arrives.
  let decoder = new StringDecoder("utf8");
  const emit = (lines: string[]) => {
    for (const l of lines) if (!opts.grep || opts.grep.test(l)) opts.onLine(l);
  };
  const wait = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, opts.pollMs ?? 250);
      function done() {
        clearTimeout(t);
        opts.signal.removeEventListener("abort", done);
        resolve();
      }
      opts.signal.addEventListener("abort", done, { once: true });
    });
  while (!opts.signal.aborted) {
    let now: LocalLogFile | undefined;
    try {
      now = opts.locate();
    } catch {
      now = undefined; // between a release's state write and its first log line: keep the old file
    }
    if (now && now.path !== file.path) {
      emit(buffer.flush());
      file = now;
      offset = 0;
      buffer = new LineBuffer();
      decoder = new StringDecoder("utf8");
      opts.onSwitch?.(now);
    }
    const size = await stat(file.path).then(
      (s) => s.size,
      () => 0,
    );
    if (size < offset) offset = 0;
    if (size > offset) {
      const fh = await open(file.path, "r");
      try {
        const chunk = Buffer.alloc(size - offset);
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, offset);
        offset += bytesRead;
        emit(buffer.push(decoder.write(chunk.subarray(0, bytesRead))));
      } finally {
        await fh.close();
      }
    }
    if (!opts.signal.aborted) await wait();
  }
  emit(buffer.flush());
}
