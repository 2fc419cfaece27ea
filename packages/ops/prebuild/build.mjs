// The prebuild of the steps: esbuild bundles `scripts/*.ts` with the library into plain ESM under
// `packages/ops/dist/<source hash>/`, so turbo tasks and `pnpm ops:*` run `node`, not a TypeScript
// loader. `node prebuild/build.mjs` is @repo/ops's turbo `build`; run.mjs calls buildSteps() itself
// when the sources changed since the last build.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as esbuild from "esbuild";
import lockfile from "proper-lockfile";
import { compileConfig } from "./config.mjs";
import { bundleOnlyOurCode, commonOptions, librarySideEffectFree } from "./esbuild-options.mjs";
import {
  BUILD_RECORD,
  buildDir,
  CONFIGS,
  HELPERS,
  distRoot,
  helperNames,
  isBuilt,
  opsDir,
  repoRoot,
  scriptNames,
  scriptsDir,
  sourceHash,
} from "./sources.mjs";

/** A build that cannot be made; `message` names the file and line, `fix` the next step. */
export class PrebuildError extends Error {
  constructor(message, fix) {
    super(message);
    this.name = "PrebuildError";
    this.fix = fix;
  }
}

const REBUILD = "pnpm --filter @repo/ops build";

/** esbuild's messages as `file:line:column: text` lines, paths relative to the monorepo root. */
function describeEsbuildFailure(err) {
  const messages = err?.errors ?? [];
  if (messages.length === 0) return String(err?.message ?? err);
  return messages
    .map((m) => {
      const where = m.location ? `${relative(repoRoot, join(opsDir, m.location.file))}:${m.location.line}:${m.location.column + 1}: ` : "";
      return `${where}${m.text}`;
    })
    .join("\n");
}

/**
 * Makes the build for the current sources unless it exists: each entry script in its own folder
 * (`<name>/<name>.mjs`) with code splitting (each `await import(...)` of our own modules is its
 * own chunk, so lazy stays lazy), the detached helpers as self-contained files in `helpers/` (a
 * helper keeps running while later builds replace the one it started from), esbuild's
 * metafile (`meta.json`: which source modules each output holds) and last `build.json`. The
 * folder is written under a temp name and renamed into place, so a build is complete or absent,
 * and two processes building at once both end with the same folder.
 * With `withConfig` (the turbo build) it also compiles the repository's `ops.config.ts` into the
 * build folder (config.mjs); otherwise the first step that loads a config compiles it.
 * @returns `{ hash, dir, built }`: `built` false when the build already existed.
 * @throws {PrebuildError} with esbuild's messages (file:line:column) or the file-system error, and the fix.
 */
export async function buildSteps({ withConfig = false } = {}) {
  const { hash, files } = sourceHash();
  const dir = buildDir(hash);
  let built = false;
  if (!isBuilt(hash)) {
    // Many steps started at once on changed sources (turbo's parallel tasks, a test's commands)
    // build once: the others wait for the lock and then find the build made.
    const release = await lockBuilds();
    try {
      built = !isBuilt(hash);
      if (built) await buildInto(hash, files, dir);
    } finally {
      await release().catch(() => undefined);
    }
  }
  if (withConfig) await compileConfig(join(repoRoot, "ops.config.ts"), join(dir, CONFIGS));
  pruneOldBuilds(hash);
  return { hash, dir, built };
}

/**
 * Takes `dist/.build.lock` (proper-lockfile: stale after 30 s without its holder's heartbeat, so a
 * killed build frees it). The lock saves work; correctness comes from the rename in buildInto.
 */
async function lockBuilds() {
  try {
    mkdirSync(distRoot, { recursive: true });
    return await lockfile.lock(distRoot, {
      lockfilePath: join(distRoot, ".build.lock"),
      realpath: false,
      stale: 30_000,
      retries: { retries: 600, minTimeout: 50, maxTimeout: 500, factor: 1.2 },
      // A heartbeat late on a loaded machine only means another build may start: each build is
      // renamed into place whole, so two are wasted work, never a broken build.
      onCompromised: () => undefined,
    });
  } catch (err) {
    if (err.code === "ELOCKED") {
      throw new PrebuildError(
        `another build of the steps has held ${join(distRoot, ".build.lock")} for minutes`,
        "Wait for it to finish (or stop it), then rerun.",
      );
    }
    throw new PrebuildError(
      `cannot write the prebuilt steps under ${distRoot}: ${err.message}`,
      `Make ${distRoot} writable for this user, then rerun.`,
    );
  }
}

async function buildInto(hash, files, dir) {
  const names = scriptNames(files);
  const clashing = names.filter((n) => [HELPERS, CONFIGS].includes(n));
  if (clashing.length > 0) {
    throw new PrebuildError(
      `scripts/${clashing[0]}.ts has a name the build uses for its own files`,
      `Rename scripts/${clashing[0]}.ts (and the package.json scripts that run it).`,
    );
  }
  let tmp;
  try {
    mkdirSync(distRoot, { recursive: true });
    tmp = mkdtempSync(join(distRoot, `.tmp-${hash}-`));
    chmodSync(tmp, 0o755); // mkdtemp makes it private; the build is as readable as the checkout
  } catch (err) {
    throw new PrebuildError(
      `cannot write the prebuilt steps under ${distRoot}: ${err.message}`,
      `Make ${distRoot} writable for this user, then rerun.`,
    );
  }
  try {
    const define = { __OPS_PREBUILT__: JSON.stringify(hash) };
    const options = { ...commonOptions, define, plugins: [librarySideEffectFree, bundleOnlyOurCode] };
    let results;
    try {
      // One build per entry script: esbuild's splitting assigns whole files to chunks by which
      // entries import them, so in one shared build every script would load every command that
      // index.ts re-exports. Each script's own build keeps only what it uses, and its lazy
      // imports (the fly target, gRPC health) as separate chunks.
      results = await Promise.all([
        ...names.map((n) =>
          esbuild.build({
            ...options,
            entryPoints: [{ in: join(scriptsDir, `${n}.ts`), out: n }],
            outdir: join(tmp, n),
            splitting: true,
            chunkNames: "chunk-[hash]",
          }),
        ),
        esbuild.build({
          ...options,
          entryPoints: helperNames.map((n) => ({ in: join(opsDir, "src", "local", `${n}.ts`), out: n })),
          outdir: join(tmp, HELPERS),
        }),
      ]);
      const dropped = results.flatMap((r) => r.warnings).filter((w) => w.id === "ignored-bare-import");
      if (dropped.length > 0) throw { errors: dropped };
    } catch (err) {
      throw new PrebuildError(
        `the steps do not build:\n${describeEsbuildFailure(err)}`,
        `Fix the error above, then rerun (or run ${REBUILD}).`,
      );
    }
    const outputs = Object.assign({}, ...results.map((r) => r.metafile.outputs));
    // Which of our source modules each output holds, for tests and `pnpm bench` (paths from the repo root).
    const meta = Object.fromEntries(
      Object.entries(outputs).map(([out, info]) => [
        relative(tmp, join(opsDir, out)),
        Object.entries(info.inputs)
          .filter(([, input]) => input.bytesInOutput > 0)
          .map(([i]) => relative(repoRoot, join(opsDir, i))),
      ]),
    );
    writeFileSync(join(tmp, "meta.json"), `${JSON.stringify(meta, null, 1)}\n`);
    const record = {
      hash,
      esbuild: esbuild.version,
      builtAt: new Date().toISOString(),
      scripts: names,
      helpers: helperNames,
      sources: files,
    };
    writeFileSync(join(tmp, BUILD_RECORD), `${JSON.stringify(record, null, 1)}\n`);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (!isBuilt(hash)) throw new PrebuildError(`cannot move the build into ${dir}: ${err.message}`, `Remove ${distRoot} and rerun.`);
      // another process finished the same build first: theirs is identical
    }
  } catch (err) {
    if (err instanceof PrebuildError) throw err;
    // EACCES, EROFS, ENOSPC while writing the build: name the folder, keep no half build.
    throw new PrebuildError(
      `cannot write the prebuilt steps under ${distRoot}: ${err.message}`,
      `Make ${distRoot} writable (or free space), then rerun.`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const KEEP_BUILDS = 3;
const KEEP_YOUNGER_MS = 60 * 60 * 1000;

/**
 * Removes builds other than the newest three that are more than an hour old, and temp folders
 * of builds that died. A step started from an old build keeps running: a build is removed only
 * long after it was replaced, and helpers are self-contained files.
 */
function pruneOldBuilds(current) {
  let entries;
  try {
    entries = readdirSync(distRoot).map((name) => {
      const path = join(distRoot, name);
      return { name, path, mtimeMs: statSync(path).mtimeMs };
    });
  } catch {
    return;
  }
  const now = Date.now();
  const builds = entries.filter((e) => e.name !== current && e.name !== ".build.lock").sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const [i, e] of builds.entries()) {
    const old = now - e.mtimeMs > KEEP_YOUNGER_MS;
    if ((e.name.startsWith(".tmp-") && old) || (!e.name.startsWith(".tmp-") && old && i >= KEEP_BUILDS - 1)) {
      rmSync(e.path, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  try {
    const { hash } = await buildSteps({ withConfig: true });
    console.log(`prebuilt steps ${hash} in ${relative(repoRoot, distRoot)}/ (${Math.round(performance.now() - started)} ms)`);
  } catch (err) {
    if (!(err instanceof PrebuildError)) throw err;
    console.error(`✖ ${err.message}\n  fix: ${err.fix}`);
    process.exit(1);
  }
}
