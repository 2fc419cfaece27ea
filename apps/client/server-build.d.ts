// build-server.mjs resolves this specifier to the Remix server build (build/server/index.js).
declare module "virtual:remix/server-build" {
  import type { ServerBuild } from "@remix-run/node";
  const build: ServerBuild;
  export = build;
}
