import { localCommand, runOps } from "@repo/ops";

await runOps(localCommand());
