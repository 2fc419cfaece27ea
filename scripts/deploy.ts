import { deployCommand, runOps } from "@repo/ops";

await runOps(deployCommand());
