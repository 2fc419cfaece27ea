import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { diffFingerprints, SecretLedger, type AppFingerprints } from "../secrets/ledger.ts";
import { resolveLocalSecrets } from "../secrets/local-source.ts";

/**
 * Resolves the local target's secrets and the fingerprints each app would receive, without
 * revealing a value. `create: false` (dry run) generates nothing.
 */
export function stageLocalSecrets(ctx: OpsContext, create: boolean) {
  const resolved = resolveLocalSecrets(ctx.config, ctx.env, { create });
  for (const v of resolved.values.values()) ctx.addSecret(v);
  const ledger = new SecretLedger(ctx.env.stateDir, ctx.env.environment);
  const staged: Record<string, AppFingerprints> = {};
  const rows: string[][] = [];
  for (const app of ctx.config.deployOrder) {
    const keys = ctx.config.apps[app]!.secrets;
    staged[app] = create ? ledger.fingerprints(keys, resolved.values) : {};
    const diff = diffFingerprints(ledger.deployed(app), staged[app]!);
    for (const key of keys) {
      rows.push([app, key, resolved.sources.get(key) ?? "(generated on first run)", create ? (diff[key] ?? "new") : "-"]);
    }
  }
  return { resolved, staged, rows };
}

/**
 * `pnpm ops:secrets [sync]` / the `production-sync-secrets` task. On the local target: generates
 * the development secrets once (mode 0600), checks every app's keys resolve, and stages their
 * fingerprints in the run so the deploy step hands each app exactly the values staged here.
 */
export const secretsCommand = () =>
  defineOps({
    name: (pos) => `secrets ${pos[0] ?? "sync"}`,
    description: "sync secrets: resolve every app's declared keys and stage them for the deploy (values never printed)",
    async run(ctx, { positionals }) {
      const sub = positionals[0] ?? "sync";
      if (sub !== "sync" && sub !== "list") throw new UsageError(`unknown secrets command "${sub}"`, { fix: "Use `pnpm ops:secrets sync` or `pnpm ops:secrets list`." });
      if (ctx.env.target !== "local") {
        throw new UsageError("secrets sync for the fly target is not available in this version", { fix: "Use OPS_TARGET=local." });
      }
      const started = new Date();
      const run = ctx.flags.pipeline && !ctx.flags.dryRun ? await joinRun(ctx, "sync-secrets") : undefined;
      const { resolved, staged, rows } = stageLocalSecrets(ctx, !ctx.flags.dryRun && sub === "sync");
      for (const w of resolved.warnings) ctx.reporter.emit({ kind: "warn", message: w });
      if (resolved.generated.length) ctx.reporter.emit({ kind: "info", message: `generated ${resolved.generated.join(", ")} (stored with mode 0600)` });
      ctx.reporter.emit({ kind: "table", title: "Secrets per app (values never shown)", columns: ["APP", "KEY", "SOURCE", "VS DEPLOYED"], rows });
      if (ctx.flags.dryRun) ctx.reporter.emit({ kind: "plan", step: "secrets", items: ["generate missing development secrets (mode 0600)", "stage each app's fingerprints for this run"] });
      if (run) recordStep(ctx, run, "sync-secrets", started, { staged });
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "sync-secrets", err),
  });
