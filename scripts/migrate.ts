import { migrateCommand, runOps } from "@repo/ops";

await runOps(migrateCommand());
