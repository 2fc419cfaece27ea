import { preflightCommand, runOps } from "@repo/ops";

await runOps(preflightCommand());
