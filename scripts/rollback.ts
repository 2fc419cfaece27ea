import { rollbackCommand, runOps } from "@repo/ops";

await runOps(rollbackCommand());
