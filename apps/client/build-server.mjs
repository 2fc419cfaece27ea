// Second half of `pnpm --filter client build` (after `remix vite:build`):
// bundle server.ts + the Remix server build + all dependencies into build/server.mjs and copy the
// protos to build/proto, so the build/ folder alone runs: `node build/server.mjs`.
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, "build");
const remixServerBuild = join(buildDir, "server", "index.js");
const protoSrc = resolve(here, "../../proto");
const protoDest = join(buildDir, "proto");

if (!existsSync(remixServerBuild)) {
  console.error(`build-server: ${remixServerBuild} is missing; run \`remix vite:build\` first`);
  process.exit(1);
}

/** Resolve `virtual:remix/server-build` (imported by server.ts) to the Remix server build. */
const remixBuildPlugin = {
  name: "remix-server-build",
  setup(b) {
    b.onResolve({ filter: /^virtual:remix\/server-build$/ }, () => ({ path: remixServerBuild }));
  },
};

const started = Date.now();
const result = await build({
  absWorkingDir: here,
  entryPoints: ["server.ts"],
  outfile: join(buildDir, "server.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Some bundled CommonJS (grpc-js, protobufjs, react-dom/server) calls require() for Node
  // built-ins; give the ESM bundle a real one.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  define: { "process.env.NODE_ENV": '"production"' },
  plugins: [remixBuildPlugin],
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  metafile: true,
});

rmSync(protoDest, { recursive: true, force: true });
mkdirSync(protoDest, { recursive: true });
cpSync(protoSrc, protoDest, {
  recursive: true,
  filter: (src) => statSync(src).isDirectory() || src.endsWith(".proto"),
});

const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(
  `build-server: build/server.mjs (${(bytes / 1024 / 1024).toFixed(1)} MiB with map) and build/proto in ${Date.now() - started} ms`,
);
