import { cleanBuildsCommand, runOps } from "@repo/ops";

await runOps(cleanBuildsCommand());
