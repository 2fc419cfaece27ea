// The e2e suite runs against build/server.mjs. Build it when it is missing (turbo runs test:e2e
// without a build dependency); an existing build is used as is: run `pnpm --filter client build`
// after changing the app.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export default function setup() {
  const appDir = fileURLToPath(new URL("../..", import.meta.url));
  if (existsSync(`${appDir}/build/server.mjs`)) return;
  console.log("client e2e: build/server.mjs missing, building it");
  execFileSync("pnpm", ["run", "build"], { cwd: appDir, stdio: "inherit" });
}
