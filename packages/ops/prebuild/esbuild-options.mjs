// esbuild settings shared by the step build (build.mjs) and the config build (config.mjs).
import { dirname, join, resolve } from "node:path";
import { opsDir } from "./sources.mjs";

const librarySrc = join(opsDir, "src");

/**
 * Third-party packages and node builtins stay imports resolved by node at run time (from
 * packages/ops/node_modules), so a module that loads one lazily (`await import("pg")`) still loads
 * it only when that line runs. Bundled: `@repo/ops` (this package's TypeScript) and zod, which
 * every step loads at start to validate env and config: as one chunk it costs about a sixth less of
 * `ops:status`'s start than its ~95 ESM files resolved and compiled one by one (`pnpm bench`).
 * Its version is pinned by the lockfile, which turbo hashes into every task.
 */
export const bundleOnlyOurCode = {
  name: "bundle-only-our-code",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === "@repo/ops" || args.path.startsWith("@repo/ops/") || args.path === "zod") return undefined;
      if (args.kind === "entry-point") return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** Options every build here uses: ESM for node 20, readable output (stack traces name our functions). */
export const commonOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  logLevel: "silent",
  metafile: true,
  legalComments: "none",
  absWorkingDir: opsDir,
};

/**
 * The library's modules have no import side effects (nothing in src/ is imported for its effect
 * alone, and build.mjs fails on esbuild's "ignored-bare-import" warning if that changes), so an
 * entry gets only the modules whose exports it uses: `scripts/status.ts` imports `statusCommand`
 * from `@repo/ops` and is not made to load every command `index.ts` re-exports.
 */
export const librarySideEffectFree = {
  name: "library-side-effect-free",
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      if (!args.importer.startsWith(librarySrc)) return undefined;
      return { path: resolve(dirname(args.importer), args.path), sideEffects: false };
    });
    build.onResolve({ filter: /^@repo\/ops$/ }, () => ({ path: join(librarySrc, "index.ts"), sideEffects: false }));
  },
};
