import { historyCommand, runOps } from "@repo/ops";

await runOps(historyCommand());
