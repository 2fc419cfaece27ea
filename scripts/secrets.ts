import { secretsCommand, runOps } from "@repo/ops";

await runOps(secretsCommand());
