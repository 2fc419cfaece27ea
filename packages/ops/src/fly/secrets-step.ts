import type { OpsContext } from "../context.ts";
import { flySecretsImportStaged, flySecretsList } from "../commands/fly.ts";
import { ledgerKey, readLedger, recordPushed } from "../db/secret-ledger.ts";
import { fingerprintSecret } from "../secrets/fingerprint.ts";
import { serializeForFlyImport } from "../secrets/fly-import-format.ts";
import { resolveFlySecrets } from "../secrets/fly-source.ts";
import { classifyKeys, importEntries, keysToPush, type FlySecretListing } from "../secrets/fly-sync.ts";
import { Secret } from "../secrets/secret.ts";
import { withTargetDb } from "../target-db.ts";
import { flyTarget } from "./context.ts";

/** Per app: the keys staged on Fly by this sync. */
export type StagedKeys = Record<string, string[]>;

export interface FlySyncResult {
  /** Keys this sync staged, per app. */
  staged: StagedKeys;
  /** Apps that already had declared keys staged but not deployed before this sync (a rotation, a --stage-only sync). */
  pending: string[];
}

/**
 * Syncs each app's declared secrets to Fly: one `fly secrets import --stage -a <app>` per app
 * with changes, values on stdin only (serialized in the exact form flyctl's importer parses), apps
 * without changes skipped. Changes are found from keyed fingerprints and Fly's digests (ledger in
 * the target database); a digest that moved since our push is reported as changed outside this tool.
 * @param runId recorded in the ledger.
 * @param opts.preview only compare and print (list, dry run): nothing is imported.
 * @returns the keys staged per app (empty for unchanged apps).
 * @throws {SecretsError} naming a key whose value flyctl cannot carry; {CommandFailedError} when flyctl fails (output redacted).
 */
export async function syncFlySecrets(ctx: OpsContext, runId: string, opts: { preview: boolean }): Promise<FlySyncResult> {
  const { provider, flyctl } = flyTarget(ctx);
  const secrets = resolveFlySecrets(ctx.config, ctx.env);
  for (const v of secrets.values.values()) ctx.addSecret(v);
  for (const w of secrets.warnings) ctx.reporter.emit({ kind: "warn", message: w });
  return withTargetDb(ctx, "secret ledger", async (client) => {
    const key = await ledgerKey(client, ctx.env.ledgerKey);
    const staged: StagedKeys = {};
    const pending: string[] = [];
    const rows: string[][] = [];
    for (const app of ctx.config.deployOrder) {
      const keys = ctx.config.apps[app]!.secrets;
      const flyApp = provider.flyApp(app);
      const fingerprints = Object.fromEntries(keys.map((k) => [k, fingerprintSecret(k, secrets.values.get(k)!, key)]));
      const onFly = await flyctl.json<FlySecretListing[]>(flySecretsList(flyApp), `listing secrets of ${flyApp}`);
      const changes = classifyKeys(keys, fingerprints, await readLedger(client, ctx.env.environment, app), onFly);
      for (const k of keys) rows.push([app, flyApp, k, changes[k]!]);
      for (const extra of onFly.filter((s) => !keys.includes(s.name))) rows.push([app, flyApp, extra.name, "on Fly, not declared (left alone)"]);
      const waiting = onFly.filter((s) => keys.includes(s.name) && s.status === "Staged").map((s) => s.name);
      if (waiting.length > 0) {
        pending.push(app);
        ctx.reporter.emit({ kind: "info", message: `${flyApp}: ${waiting.join(", ")} staged earlier and not deployed yet` });
      }
      const push = keysToPush(changes);
      staged[app] = [];
      if (push.length === 0) continue;
      const outside = push.filter((k) => changes[k] === "changed-outside");
      if (outside.length) ctx.reporter.emit({ kind: "warn", message: `${flyApp}: ${outside.join(", ")} changed outside this tool since our last push; our value is pushed again`, fix: "Set secrets only through the secrets file and `pnpm ops:secrets`." });
      const payload = serializeForFlyImport(importEntries(push, secrets.values));
      if (opts.preview) continue;
      await flyctl.run(flySecretsImportStaged(flyApp, new Secret(payload)), `staging ${push.length} secrets on ${flyApp}`);
      const after = await flyctl.json<FlySecretListing[]>(flySecretsList(flyApp), `listing secrets of ${flyApp}`);
      const digests = new Map(after.map((s) => [s.name, s.digest]));
      await recordPushed(client, ctx.env.environment, app, runId, push.map((k) => ({ key: k, fingerprint: fingerprints[k]!, flyDigest: digests.get(k) ?? null })));
      staged[app] = push;
    }
    ctx.reporter.emit({ kind: "table", title: `Secrets from ${secrets.source} (values never shown)`, columns: ["APP", "FLY APP", "KEY", "CHANGE"], rows });
    if (opts.preview) ctx.reporter.emit({ kind: "plan", step: "secrets", items: ctx.config.deployOrder.map((a) => `${provider.flyApp(a)}: stage ${rows.filter((r) => r[0] === a && r[3] !== "unchanged" && !r[3]!.startsWith("on Fly")).map((r) => r[2]).join(", ") || "nothing (unchanged)"}`) });
    return { staged, pending };
  });
}
