/**
 * Build snapshots: right after the pipeline's builds, each app's build output is copied into a
 * read-only folder named by the SHA-256 of its content
 * (`<stateDir>/artifacts/<env>/<app>/<digest>/`), and the run records the digest. The deploy
 * copies its release from that snapshot after checking the digest again, so nothing that rewrites
 * `apps/<app>/build` later (another run's build, a developer's `pnpm build`) changes what the run
 * ships. Hand-written: content-addressed copies of a few folders are this project's own concern.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from "node:fs";
import { join } from "node:path";
import { DeployError } from "../errors.ts";
import { isAlive } from "../local/process-utils.ts";
import type { RunStore } from "../state/run-state.ts";

/** One app's snapshot, as the run state records it. */
export interface ArtifactSnapshot {
  app: string;
  /** `sha256:<hex>` of the snapshot's content (paths, file kinds, executable bits, bytes). */
  digest: string;
  /** The read-only folder holding the artifacts, laid out as under the app's folder (`build/…`, `bin/backend`). */
  dir: string;
  /** The artifact paths, relative to the app folder (`ops.config.ts` `apps.<app>.artifacts`). */
  artifacts: string[];
  files: number;
  bytes: number;
}

/** How many snapshots of an app the store keeps (the newest; the one a run just made is always kept). */
export const KEEP_SNAPSHOTS = 3;

/**
 * The store of an environment's build snapshots under a state folder. Per environment, so only
 * runs under that environment's deploy lock add or prune snapshots there.
 */
export const artifactStore = (stateDir: string, environment: string) => join(stateDir, "artifacts", environment);

const hex = (digest: string) => digest.replace(/^sha256:/, "");

/**
 * The content digest of `artifacts` under `root`: SHA-256 over every entry, in sorted path order,
 * of its kind, path, executable bit (files) or target (symlinks), and bytes.
 * @returns `{ digest: "sha256:<hex>", files, bytes }`.
 * @throws {DeployError} when an artifact is missing.
 */
export function treeDigest(root: string, artifacts: readonly string[]): { digest: string; files: number; bytes: number } {
  const hash = createHash("sha256");
  let files = 0;
  let bytes = 0;
  const visit = (rel: string) => {
    const path = join(root, rel);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      hash.update(`l\0${rel}\0${readlinkSync(path)}\0`);
    } else if (st.isDirectory()) {
      hash.update(`d\0${rel}\0`);
      for (const name of readdirSync(path).sort()) visit(`${rel}/${name}`);
    } else {
      const body = readFileSync(path);
      hash.update(`f\0${rel}\0${st.mode & 0o111 ? "x" : "-"}\0${body.length}\0`);
      hash.update(body);
      files++;
      bytes += body.length;
    }
  };
  for (const a of [...artifacts].sort()) {
    if (!existsSync(join(root, a))) {
      throw new DeployError(`no build output: ${join(root, a)} not found`, {
        where: join(root, a),
        fix: "Build first: `pnpm turbo run production-deploy` builds every app before it deploys.",
      });
    }
    visit(a);
  }
  return { digest: `sha256:${hash.digest("hex")}`, files, bytes };
}

/** Clears the write bits of every file under `dir` (folders stay writable, so old snapshots can be removed). */
function makeReadOnly(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) makeReadOnly(path);
    else chmodSync(path, st.mode & 0o555);
  }
}

/**
 * Copies `artifacts` of the app folder `appDir` into the store, named by the digest of the copy
 * (so the record describes exactly what was copied, even if the source changes meanwhile). A
 * snapshot with the same digest is reused. The copy is made under a temporary name and renamed,
 * so a killed process never leaves a half snapshot under a digest name.
 * @throws {DeployError} when an artifact is missing; Node's fs errors (ENOSPC, EACCES) as they come.
 */
export function snapshotArtifacts(opts: { app: string; appDir: string; artifacts: readonly string[]; store: string }): ArtifactSnapshot {
  const appStore = join(opts.store, opts.app);
  mkdirSync(appStore, { recursive: true });
  removePartials(appStore);
  const partial = join(appStore, `.partial-${process.pid}-${Date.now()}`);
  try {
    for (const a of opts.artifacts) {
      if (!existsSync(join(opts.appDir, a))) {
        throw new DeployError(`no build output for ${opts.app}: ${join(opts.appDir, a)} not found`, {
          where: opts.appDir,
          fix: "Build first: `pnpm turbo run production-deploy` builds every app before it deploys.",
        });
      }
      cpSync(join(opts.appDir, a), join(partial, a), { recursive: true });
    }
    const { digest, files, bytes } = treeDigest(partial, opts.artifacts);
    const dir = join(appStore, hex(digest));
    if (existsSync(dir)) {
      const now = new Date();
      utimesSync(dir, now, now); // the newest use decides what pruning keeps
    } else {
      makeReadOnly(partial);
      renameSync(partial, dir);
    }
    return { app: opts.app, digest, dir, artifacts: [...opts.artifacts], files, bytes };
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/**
 * The snapshot {@link snapshotArtifacts} would make of the build as it is now, without copying:
 * its digest (of the source, which the copy reproduces: bytes, kinds, executable bits) and the
 * folder it would get. For dry runs of the pipeline, whose artifacts step records nothing.
 * @throws {DeployError} when an artifact is missing.
 */
export function plannedSnapshot(opts: { app: string; appDir: string; artifacts: readonly string[]; store: string }): ArtifactSnapshot {
  const { digest, files, bytes } = treeDigest(opts.appDir, opts.artifacts);
  return { app: opts.app, digest, dir: join(opts.store, opts.app, hex(digest)), artifacts: [...opts.artifacts], files, bytes };
}

/** Removes `.partial-<pid>-…` copies whose process is gone (killed mid-copy). */
function removePartials(appStore: string): void {
  for (const name of readdirSync(appStore)) {
    const pid = Number(/^\.partial-(\d+)-/.exec(name)?.[1]);
    if (pid && !isAlive(pid)) rmSync(join(appStore, name), { recursive: true, force: true });
  }
}

/**
 * Checks that a recorded snapshot is still there and unchanged (its content has the recorded digest).
 * @throws {DeployError} naming the folder and both digests when it is missing or was changed.
 */
export function verifySnapshot(snap: ArtifactSnapshot): void {
  const fix =
    "Start a new run (`pnpm turbo run production-deploy`): it builds and snapshots again. Never edit files under the artifacts folder.";
  if (!existsSync(snap.dir)) {
    throw new DeployError(`the build snapshot of ${snap.app} (${snap.digest}) is gone: ${snap.dir} does not exist`, {
      where: snap.dir,
      fix,
    });
  }
  const now = treeDigest(snap.dir, snap.artifacts).digest;
  if (now !== snap.digest) {
    throw new DeployError(`the build snapshot of ${snap.app} was changed after the run made it: recorded ${snap.digest}, found ${now}`, {
      where: snap.dir,
      fix,
    });
  }
}

/** Removes all but the `keep` most recently used snapshots of `app`; never the one named `except`. */
export function pruneSnapshots(store: string, app: string, except: string, keep = KEEP_SNAPSHOTS): string[] {
  const appStore = join(store, app);
  if (!existsSync(appStore)) return [];
  const snaps = readdirSync(appStore)
    .filter((n) => /^[0-9a-f]{64}$/.test(n) && n !== hex(except))
    .map((n) => ({ n, t: statSync(join(appStore, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  const removed = snaps.slice(Math.max(0, keep - 1)).map((s) => join(appStore, s.n));
  for (const dir of removed) rmSync(dir, { recursive: true, force: true });
  return removed;
}

/** The step record the `production-artifacts` task writes (`runs/<id>/steps/artifacts.json`). */
export const ARTIFACTS_STEP = "artifacts";

/** The snapshot the artifacts step of run `runId` recorded for `app`, if any. */
export function recordedSnapshot(runs: RunStore, runId: string, app: string): ArtifactSnapshot | undefined {
  const detail = runs.readSteps(runId)[ARTIFACTS_STEP]?.detail as { snapshots?: Record<string, ArtifactSnapshot> } | undefined;
  return detail?.snapshots?.[app];
}
