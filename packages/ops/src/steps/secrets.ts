import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { diffFingerprints, SecretLedger, type AppFingerprints } from "../secrets/ledger.ts";
import { resolveLocalSecrets } from "../secrets/local-source.ts";
import { flyTarget } from "../fly/context.ts";
import { syncFlySecrets } from "../fly/secrets-step.ts";
import { newRunId } from "../state/run-state.ts";
import { withStandaloneRun } from "../pipeline/standalone.ts";
import { generateSecretValue } from "../secrets/fingerprint.ts";
import { replaceSecretInFile } from "../secrets/rotate.ts";
import { flySecretsFilePath } from "../secrets/fly-source.ts";
import { localPaths } from "../local/paths.ts";
import type { OpsContext as Ctx } from "../context.ts";

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
    staged[app] = ledger.fingerprints(keys, resolved.values);
    const diff = diffFingerprints(ledger.deployed(app), staged[app]!);
    for (const key of keys) {
      rows.push([app, key, resolved.sources.get(key) ?? "(generated on first run)", diff[key] ?? "new"]);
    }
  }
  return { resolved, staged, rows };
}

/**
 * `pnpm ops:secrets [list|sync|rotate KEY]` / the `production-sync-secrets` task (`sync
 * --pipeline`). Local: generates the development secrets once (mode 0600) and stages their
 * fingerprints in the run, so the deploy step hands each app exactly the values staged here.
 * Fly: one `fly secrets import --stage` per app with changes (see fly/secrets-step.ts).
 */
export const secretsCommand = () =>
  defineOps({
    name: (pos) => `secrets ${pos[0] ?? "list"}`,
    description: "secrets per app (values never shown). `list` (default): what would change; `sync`: stage them for the deploy (fly: import, then apply unless --stage-only); `rotate KEY`: new value for a rotatable key",
    usage: ["pnpm ops:secrets [list]          what would change per app", "pnpm ops:secrets sync            stage (fly: and apply) every app's declared keys", "pnpm ops:secrets sync --stage-only   fly: stage only; the next deploy applies them", "pnpm ops:secrets rotate KEY      new value for a key in secrets.rotatable"],
    options: { "stage-only": { type: "boolean", default: false } },
    async run(ctx, { positionals, values }) {
      // Bare `pnpm ops:secrets` only shows; changing anything needs the explicit `sync`.
      const sub = positionals[0] ?? "list";
      if (sub === "rotate") return rotateSecret(ctx, positionals[1]);
      if (sub !== "sync" && sub !== "list") throw new UsageError(`unknown secrets command "${sub}"`, { fix: "Use `pnpm ops:secrets sync`, `list` or `rotate KEY`." });
      const preview = sub === "list" || ctx.flags.dryRun;
      return ctx.env.target === "fly" ? syncFly(ctx, preview, Boolean(values["stage-only"])) : syncLocal(ctx, preview, sub === "list");
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "sync-secrets", err),
  });

/** Fly: stage changed keys per app; alone (not in a pipeline) also apply them unless `stageOnly`. */
async function syncFly(ctx: Ctx, preview: boolean, stageOnly: boolean): Promise<void> {
  const started = new Date();
  if (preview) {
    await syncFlySecrets(ctx, newRunId(), { preview: true });
    return;
  }
  if (ctx.flags.pipeline) {
    const run = await joinRun(ctx, "sync-secrets");
    const { staged, pending } = await syncFlySecrets(ctx, run.runId, { preview: false });
    // Keys staged before this run go live with this run's deploys too (C-09 applies to them as well).
    for (const app of pending) staged[app] = staged[app]?.length ? staged[app]! : ["(staged earlier)"];
    recordStep(ctx, run, "sync-secrets", started, { stagedFly: staged });
    return;
  }
  // Alone, staging restarts nothing but applying does: both run under the deploy lock.
  await withStandaloneRun(ctx, "secrets", async (run) => {
    const { staged, pending } = await syncFlySecrets(ctx, run.runId, { preview: false });
    const apply = [...new Set([...Object.entries(staged).filter(([, keys]) => keys.length > 0).map(([app]) => app), ...pending])];
    if (apply.length === 0) return { result: undefined };
    if (stageOnly) {
      ctx.reporter.emit({ kind: "warn", message: `staged on ${apply.join(", ")} but not applied`, fix: "The next deploy applies them, or run `pnpm ops:secrets sync` without --stage-only." });
      return { result: undefined };
    }
    const { provider } = flyTarget(ctx);
    for (const app of ctx.config.deployOrder.filter((a) => apply.includes(a))) {
      await provider.deployStagedSecrets(app);
      ctx.reporter.emit({ kind: "info", message: `${provider.flyApp(app)}: staged secrets applied (fly secrets deploy restarted its machines)` });
    }
    return { result: undefined };
  });
}

/** Local: generate missing development secrets once, and stage each app's fingerprints in the run. */
async function syncLocal(ctx: Ctx, preview: boolean, listOnly: boolean): Promise<void> {
  const started = new Date();
  const run = ctx.flags.pipeline && !preview ? await joinRun(ctx, "sync-secrets") : undefined;
  const { resolved, staged, rows } = stageLocalSecrets(ctx, !preview);
  for (const w of resolved.warnings) ctx.reporter.emit({ kind: "warn", message: w });
  if (resolved.generated.length) ctx.reporter.emit({ kind: "info", message: `generated ${resolved.generated.join(", ")} (stored with mode 0600)` });
  ctx.reporter.emit({ kind: "table", title: "Secrets per app (values never shown)", columns: ["APP", "KEY", "SOURCE", "VS DEPLOYED"], rows });
  if (preview && !listOnly) ctx.reporter.emit({ kind: "plan", step: "secrets", items: ["generate missing development secrets (mode 0600)", "stage each app's fingerprints for this run"] });
  if (run) recordStep(ctx, run, "sync-secrets", started, { staged });
}

/**
 * `pnpm ops:secrets rotate KEY`: a new strong value for a key declared rotatable, written
 * atomically to the secrets file (previous file kept as `.bak`), then staged (fly) or used by the
 * next deploy (local).
 * @throws {UsageError} when KEY is missing or not rotatable.
 */
async function rotateSecret(ctx: Ctx, key: string | undefined): Promise<void> {
  const rotatable = ctx.config.secrets.rotatable;
  if (!key || !rotatable.includes(key)) {
    throw new UsageError(key ? `${key} is not declared rotatable` : "rotate needs a key", { fix: `Rotatable keys (secrets.rotatable in ops.config.ts): ${rotatable.join(", ") || "none"}.` });
  }
  const file = ctx.env.target === "fly" ? flySecretsFilePath(ctx.env) : (ctx.env.secretsFile ?? localPaths(ctx.env.stateDir, ctx.env.environment).secretsFile);
  const apps = ctx.config.deployOrder.filter((a) => ctx.config.apps[a]!.secrets.includes(key));
  if (ctx.flags.dryRun) {
    ctx.reporter.emit({ kind: "plan", step: "secrets rotate", items: [`write a new 32-byte value for ${key} to ${file} (previous file kept as ${file}.bak)`, ctx.env.target === "fly" ? `stage it on ${apps.join(", ")}` : `used by the next deploy of ${apps.join(", ")}`] });
    return;
  }
  const write = () => {
    const value = generateSecretValue(32);
    ctx.addSecret(value);
    const backup = replaceSecretInFile(file, key, value, ctx.env.repoRoot);
    ctx.reporter.emit({ kind: "info", message: `${key}: new value written to ${file}; previous file kept as ${backup}` });
  };
  if (ctx.env.target === "fly") {
    // Under the deploy lock: no deploy may read the file or stage secrets while it changes.
    await withStandaloneRun(ctx, "secrets", async (run) => {
      write();
      return { result: await syncFlySecrets(ctx, run.runId, { preview: false }) };
    });
    ctx.reporter.emit({ kind: "info", message: `${key} staged on ${apps.join(", ")}; the next deploy applies it, or \`pnpm ops:secrets sync\` applies it now` });
  } else {
    write();
    ctx.reporter.emit({ kind: "info", message: `the next deploy of ${apps.join(", ")} uses the new ${key}` });
  }
}
