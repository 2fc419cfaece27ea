import { logsCommand, runOps } from "@repo/ops";

await runOps(logsCommand());
