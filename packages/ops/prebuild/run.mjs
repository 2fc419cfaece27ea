// The entry of every prebuilt step: `node packages/ops/prebuild/run.mjs <script> [args...]` runs
// `scripts/<script>.ts` from the build made from the current sources. It hashes the sources first
// (a few milliseconds); when that build does not exist yet (an edit since the last `turbo run
// build`, a fresh clone) it builds it now with esbuild, and refuses with the fix when it cannot.
// Plain JavaScript, so it runs before anything is built.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildDir, isBuilt, scriptNames, sourceHash } from "./sources.mjs";

const script = process.argv[2];
const { hash, files } = sourceHash();
const names = scriptNames(files);

if (!script || !names.includes(script)) {
  // Exit 2, as the steps' own usage errors (UsageError in src/errors.ts).
  console.error(
    `✖ ${script ? `no entry script scripts/${script}.ts` : "no entry script named"}\n  fix: run one of: ${names.join(", ")} (node packages/ops/prebuild/run.mjs <script> [args...])`,
  );
  process.exit(2);
}

if (!isBuilt(hash)) {
  const { buildSteps, PrebuildError } = await import("./build.mjs");
  try {
    await buildSteps();
  } catch (err) {
    if (!(err instanceof PrebuildError)) throw err;
    console.error(`✖ cannot run scripts/${script}.ts: its sources changed since the last build, and ${err.message}\n  fix: ${err.fix}`);
    process.exit(1);
  }
}

const entry = join(buildDir(hash), script, `${script}.mjs`);
if (!existsSync(entry)) {
  console.error(`✖ the build ${hash} has no ${script}.mjs\n  fix: remove packages/ops/dist, then run pnpm --filter @repo/ops build`);
  process.exit(1);
}
// The step reads its own arguments from process.argv.slice(2), as when run directly.
process.argv.splice(1, 2, entry);
await import(pathToFileURL(entry).href);
