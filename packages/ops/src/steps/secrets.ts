import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { failCurrentRun, joinRun, plannedRunId, recordStep } from "../pipeline/run.ts";
import { runStandalone } from "../pipeline/standalone.ts";
import { action, printPlan, applyPlan } from "../plan/plan.ts";
import { generateSecretValue } from "../secrets/fingerprint.ts";
import { replaceSecretInFile } from "../secrets/rotate.ts";
import { newRunId } from "../state/run-state.ts";

/**
 * `pnpm ops:secrets [list|sync|rotate KEY]` / the `production-sync-secrets` task (`sync
 * --pipeline`). `list` shows what would change; `sync` stages each app's declared secrets for the
 * deploy (local: generates development values once and stages their fingerprints; fly: one
 * `fly secrets import --stage` per app with changes, values on stdin) and, alone, applies them
 * unless `--stage-only`.
 */
export const secretsCommand = () =>
  defineOps({
    name: (pos) => `secrets ${pos[0] ?? "list"}`,
    description:
      "secrets per app (values never shown). `list` (default): what would change; `sync`: stage them for the deploy (fly: import, then apply unless --stage-only); `rotate KEY`: new value for a rotatable key",
    usage: [
      "pnpm ops:secrets [list]          what would change per app",
      "pnpm ops:secrets sync            stage (fly: and apply) every app's declared keys",
      "pnpm ops:secrets sync --stage-only   fly: stage only; the next deploy applies them",
      "pnpm ops:secrets rotate KEY      new value for a key in secrets.rotatable",
    ],
    subcommands: { list: [], sync: [], rotate: ["KEY"] },
    options: { "stage-only": { type: "boolean", default: false } },
    async run(ctx, { positionals, values }) {
      // Bare `pnpm ops:secrets` only shows; changing anything needs the explicit `sync`.
      const sub = positionals[0] ?? "list";
      if (sub === "rotate") return rotateSecret(ctx, positionals[1]);
      if (sub === "list") {
        const sync = await ctx.target.planSecretsSync(newRunId(), { create: false });
        printPlan(ctx, { ...sync.plan, step: "secrets (what `sync` would do)" });
        return;
      }
      return syncSecrets(ctx, Boolean(values["stage-only"]));
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "sync-secrets", err),
  });

async function syncSecrets(ctx: OpsContext, stageOnly: boolean): Promise<void> {
  const started = new Date();
  if (ctx.flags.pipeline && !ctx.flags.dryRun) {
    const run = await joinRun(ctx, "sync-secrets");
    const sync = await ctx.target.planSecretsSync(run.runId, { create: true });
    await applyPlan(ctx, sync.plan);
    recordStep(ctx, run, "sync-secrets", started, sync.detail());
    return;
  }
  if (ctx.flags.pipeline) {
    const sync = await ctx.target.planSecretsSync(plannedRunId(ctx), { create: false });
    printPlan(ctx, sync.plan);
    return;
  }
  // Alone, staging restarts nothing but applying does: both run under the deploy lock.
  await runStandalone(ctx, "secrets", async (run) => {
    const sync = await ctx.target.planSecretsSync(run.runId, { create: !ctx.flags.dryRun });
    const apply = sync.applyActions();
    if (stageOnly && apply.length > 0) {
      ctx.reporter.emit({
        kind: "warn",
        message: `--stage-only: ${apply.length} app${apply.length > 1 ? "s keep" : " keeps"} the staged values until the next deploy`,
        fix: "The next deploy applies them, or run `pnpm ops:secrets sync` without --stage-only.",
      });
    }
    return { plan: { step: "secrets sync", actions: [...sync.plan.actions, ...(stageOnly ? [] : apply)] }, result: () => undefined };
  });
}

/**
 * `pnpm ops:secrets rotate KEY`: a new strong value for a key declared rotatable, written
 * atomically to the secrets file (previous file kept as `.bak`). On a target where secrets are
 * staged (fly) this happens under the deploy lock and is staged at once; otherwise the next deploy
 * uses it.
 * @throws {UsageError} when KEY is missing or not rotatable.
 */
async function rotateSecret(ctx: OpsContext, key: string | undefined): Promise<void> {
  const rotatable = ctx.config.secrets.rotatable;
  if (!key || !rotatable.includes(key)) {
    throw new UsageError(key ? `${key} is not declared rotatable` : "rotate needs a key", {
      fix: `Rotatable keys (secrets.rotatable in ops.config.ts): ${rotatable.join(", ") || "none"}.`,
    });
  }
  const file = ctx.target.secretsFile();
  const apps = ctx.config.deployOrder.filter((a) => ctx.config.apps[a]!.secrets.includes(key));
  // Drawn while planning, so the staging below can be planned with it; only the first action writes it.
  const bytes = ctx.config.secrets.bytes[key] ?? 32;
  const value = generateSecretValue(bytes);
  ctx.addSecret(value);
  const write = action(
    "file",
    `write a new ${bytes}-byte value for ${key} to ${file} (previous file kept as ${file}.bak)`,
    () => {
      const backup = replaceSecretInFile(file, key, value, ctx.env.repoRoot);
      ctx.reporter.emit({ kind: "info", message: `${key}: new value written to ${file}; previous file kept as ${backup}` });
    },
    { path: file },
  );
  if (!ctx.target.rotateStagesAtOnce) {
    const plan = { step: "secrets rotate", actions: [write], notes: [`the next deploy of ${apps.join(", ")} uses the new value`] };
    if (ctx.flags.dryRun) return printPlan(ctx, plan);
    await applyPlan(ctx, plan);
    ctx.reporter.emit({ kind: "info", message: `the next deploy of ${apps.join(", ")} uses the new ${key}` });
    return;
  }
  // Under the deploy lock: no deploy may read the file or stage secrets while it changes. The
  // staging is the sync plan with the new value, so the dry run prints the very imports apply runs.
  await runStandalone(ctx, "secrets", async (run) => {
    const sync = await ctx.target.planSecretsSync(run.runId, { create: false, values: new Map([[key, value]]) });
    return { plan: { step: "secrets rotate", actions: [write, ...sync.plan.actions] }, result: () => undefined };
  });
  if (!ctx.flags.dryRun)
    ctx.reporter.emit({
      kind: "info",
      message: `${key} staged on ${apps.join(", ")}; the next deploy applies it, or \`pnpm ops:secrets sync\` applies it now`,
    });
}
