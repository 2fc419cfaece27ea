// Compiles an `ops.config.ts` into the prebuilt steps' folder, so a step loads the config as
// plain JavaScript. The compiled file is named by the config's content hash; a sidecar lists any
// other local file the config imports, with its hash, so an edit there is seen too.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { opsDir } from "./sources.mjs";

const librarySrc = join(opsDir, "src");

const sha16 = (bytes) => createHash("sha256").update(bytes).digest("hex").slice(0, 16);

/** Whether the compiled config's recorded local inputs still have the recorded content. */
function inputsUnchanged(sidecar) {
  try {
    const { inputs } = JSON.parse(readFileSync(sidecar, "utf8"));
    return inputs.every((i) => existsSync(i.path) && sha16(readFileSync(i.path)) === i.sha);
  } catch {
    return false;
  }
}

/** Writes `text` to `file` through a temp file and a rename, so a reader sees all of it or none. */
function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * The compiled form of `configFile` in `dir` (a build's `config/`) as `config-<content hash>.mjs`,
 * compiled now with esbuild when missing or when a local file it imports changed.
 * @returns the compiled file's absolute path.
 * @throws {Error} esbuild's error (with `errors[].location`) when the file does not compile.
 */
export async function compileConfig(configFile, dir) {
  const out = join(dir, `config-${sha16(readFileSync(configFile))}.mjs`);
  const sidecar = out.replace(/\.mjs$/, ".json");
  if (existsSync(out) && inputsUnchanged(sidecar)) return out;
  const esbuild = await import("esbuild");
  const { bundleOnlyOurCode, commonOptions, librarySideEffectFree } = await import("./esbuild-options.mjs");
  const result = await esbuild.build({
    ...commonOptions,
    absWorkingDir: dirname(configFile),
    entryPoints: [configFile],
    outfile: out,
    write: false,
    plugins: [bundleOnlyOurCode, librarySideEffectFree],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((i) => resolve(dirname(configFile), i))
    .filter((path) => path !== configFile && !path.startsWith(librarySrc))
    .map((path) => ({ path, sha: sha16(readFileSync(path)) }));
  mkdirSync(dir, { recursive: true });
  writeAtomic(out, result.outputFiles[0].text);
  writeAtomic(sidecar, `${JSON.stringify({ config: configFile, inputs }, null, 1)}\n`);
  return out;
}
