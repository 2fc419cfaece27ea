import { createHash, randomBytes } from "node:crypto";
import type { OpsContext } from "../context.ts";
import { flyLogs, flySecretsImportStaged, flySecretsList } from "../commands/fly.ts";
import { listHistory } from "../db/history.ts";
import { logLineTime, selectLogLines, splitLines } from "../logs/lines.ts";
import { readLedger, recordPushed, type LedgerRow } from "../db/secret-ledger.ts";
import { restoreOpsState, snapshotOpsState, type OpsSnapshot } from "../db/ops-snapshot.ts";
import { opsSchemaPresent } from "../db/ops-schema.ts";
import { ConfigError, DeployError, UsageError } from "../errors.ts";
import { LIST_DATABASES_SQL, listBranchDatabases } from "../neon/branch-databases.ts";
import {
  applyDatabaseRestore,
  type BranchDatabases,
  createRestorePoint,
  describeRestorePlan,
  planDatabaseRestore,
  planDatabaseRestoreToTime,
} from "../neon/restore-point.ts";
import { checkMigrationUrl } from "../neon/migration-url.ts";
import { action, cmdAction, type Action, type Plan } from "../plan/plan.ts";
import { PhaseTimer } from "../plan/phases.ts";
import type { PreflightCheck } from "../preflight/check.ts";
import {
  checkFlyApps,
  checkFlyCli,
  checkFlyDatabase,
  checkFlyDockerfiles,
  checkFlySecrets,
  checkFlyTomls,
  checkGitClean,
  checkProtoCompatible,
} from "../preflight/fly-checks.ts";
import { checkDatabaseSettings } from "../preflight/database-settings.ts";
import { checkImageRefs } from "../preflight/image-ref.ts";
import { fingerprintSecret } from "../secrets/fingerprint.ts";
import { serializeForFlyImport } from "../secrets/fly-import-format.ts";
import { flySecretsFilePath, resolveFlySecrets } from "../secrets/fly-source.ts";
import { classifyKeys, importEntries, keysToPush, type FlySecretListing } from "../secrets/fly-sync.ts";
import { Secret } from "../secrets/secret.ts";
import type {
  AppRelease,
  DatabaseRestore,
  DeployOutcome,
  LogsRequest,
  RestoreSource,
  RollbackChoice,
  SecretsSyncPlan,
  ServingState,
  Target,
  TargetDatabase,
} from "../target/target.ts";
import { NO_RELEASE } from "../target/target.ts";
import { type AppliedMigrationRow, describeUndoneMigrations, readMigrationsTable } from "../release/schema-delta.ts";
import { readOpsDb, readTargetDb, withTargetDb } from "../target-db.ts";
import { flyTarget } from "./context.ts";
import { neonFor } from "./neon.ts";
import type { FlyAppRelease } from "./provider.ts";
import { currentRelease, machineImage, releaseIdOfImage, type FlyMachine, type FlyRelease } from "./releases.ts";
import { describeSplit, imageShares, releasesToAvoid } from "./rollback-plan.ts";
import { maskSecretValues } from "../secrets/mask-values.ts";

/**
 * The error of a `fly secrets deploy` that failed after others succeeded: which apps run the new
 * values, which still run the old ones with the new ones staged, which keys are split between
 * them, and the next command.
 */
function splitSecretsError(
  err: Error,
  s: { failed: string; applied: string[]; pending: string[]; keysOf: (app: string) => string[]; flyApp: (app: string) => string },
): DeployError {
  const live = s.applied.map((a) => `${s.flyApp(a)}: ${s.keysOf(a).join(", ")} new and live`);
  const waiting = [s.failed, ...s.pending].map(
    (a) =>
      `${s.flyApp(a)}: ${s.keysOf(a).join(", ")} staged, not live (the old values serve)${a === s.failed ? " (this apply failed)" : " (not tried)"}`,
  );
  const liveKeys = new Set(s.applied.flatMap(s.keysOf));
  const split = [...new Set([s.failed, ...s.pending].flatMap(s.keysOf))].filter((k) => liveKeys.has(k));
  return new DeployError(
    `applying staged secrets failed on ${s.flyApp(s.failed)}: ${err.message}\n  ${[...live, ...waiting].join("\n  ")}${split.length ? `\n  split: ${split.join(", ")} ${split.length > 1 ? "have" : "has"} the new value on ${s.applied.map(s.flyApp).join(", ")} and the old one on ${[s.failed, ...s.pending].map(s.flyApp).join(", ")}` : ""}`,
    {
      where: s.flyApp(s.failed),
      fix: `Fix the cause (\`fly status -a ${s.flyApp(s.failed)}\`), then apply what is still staged: ${[s.failed, ...s.pending].map((a) => `\`fly secrets deploy -a ${s.flyApp(a)}\``).join(" && ")}.`,
    },
  );
}

/**
 * The run a machine was deployed by: the run id in its image tag (our builds), else the
 * `RELEASE_ID` every deploy of ours sets (`-e`, kept in the machine's config env), which is all an
 * image-only app's machine carries.
 */
function machineRunId(m: FlyMachine): string | undefined {
  return releaseIdOfImage(machineImage(m) ?? "") ?? m.config?.env?.RELEASE_ID;
}

/** What a deploy step records on fly: the shared shape plus Fly's version and image. */
function stepDetail(r: FlyAppRelease) {
  return {
    app: r.app,
    flyApp: r.flyApp,
    previous: r.previous ? (r.previous.release ?? `v${r.previous.version}`) : null,
    previousVersion: r.previous?.version ?? null,
    previousImage: r.previous?.imageRef ?? null,
    release: r.release,
    version: r.version,
    imageRef: r.imageRef,
  };
}

/**
 * The fly target: flyctl per app (remote builds, staged secrets on stdin), the Neon database
 * through `MIGRATION_DATABASE_URL`, restore points through the Neon API.
 */
export class FlyTarget implements Target {
  readonly name = "fly";
  readonly rotateStagesAtOnce = true;
  readonly shipsBuildOutputs = false;
  readonly database: TargetDatabase;
  readonly restore: DatabaseRestore;
  /** The rollback target release per app, from the last `planRollback`. */
  private readonly rollbackTargets = new Map<string, { target: FlyRelease; before: FlyRelease | undefined; leaving: string | null }>();

  constructor(private readonly ctx: OpsContext) {
    this.database = {
      source: "MIGRATION_DATABASE_URL",
      url: async () => this.databaseUrl(),
      startActions: () => [],
    };
    this.restore = {
      plan: (source) => this.restorePlan(source),
      restorePointAction: (runId, onTaken) => this.restorePointAction(runId, onTaken),
    };
  }

  /** appsEnv, flyctl and the provider, read on first use (apps.env is parsed once). */
  private get fly() {
    this.pieces ??= flyTarget(this.ctx);
    return this.pieces;
  }
  private pieces: ReturnType<typeof flyTarget> | undefined;

  private async databaseUrl(): Promise<Secret> {
    const url = this.ctx.env.migrationDatabaseUrl;
    if (!url) {
      throw new ConfigError("no database URL for the fly target", {
        fix: "Set MIGRATION_DATABASE_URL (Neon direct endpoint, sslmode=require) in the environment.",
      });
    }
    // The lock, history and migrations all use this URL: Neon's rules apply before any connect (C-13, C-15).
    const check = checkMigrationUrl(url.reveal());
    if (!check.ok) throw new ConfigError(check.message, { where: "MIGRATION_DATABASE_URL", fix: check.fix });
    return url;
  }

  repairActions(): Action[] {
    // Fly's machines are the truth and need no repair; an abandoned run's history row is closed when its lock is taken over.
    return [];
  }

  preflightChecks(): Record<string, PreflightCheck> {
    return {
      "fly.cli": checkFlyCli,
      "fly.apps": checkFlyApps,
      "fly.toml": checkFlyTomls,
      docker: checkFlyDockerfiles,
      secrets: checkFlySecrets,
      database: checkFlyDatabase,
      "database.settings": checkDatabaseSettings,
      images: (c) => checkImageRefs(c.config),
      git: checkGitClean,
      proto: checkProtoCompatible,
    };
  }

  async servingNow(apps: string[], runId: string): Promise<Record<string, ServingState>> {
    const { provider } = this.fly;
    const out: Record<string, ServingState> = {};
    for (const app of apps) {
      const [releases, status] = [await provider.releases(app), await provider.status(app)];
      const machines = status.Machines ?? [];
      const onRun = machines.filter((m) => machineRunId(m) === runId).length;
      const state: ServingState["state"] =
        machines.length === 0 ? "none" : onRun === machines.length ? "this-run" : onRun === 0 ? "previous" : "mixed";
      out[app] = { state, detail: machines.length === 0 ? "no machines" : describeSplit(imageShares(machines, releases)) };
    }
    return out;
  }

  async currentReleases(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const app of this.ctx.config.deployOrder) {
      const cur = currentRelease(await this.fly.provider.releases(app));
      out[app] = cur ? (releaseIdOfImage(cur.ImageRef) ?? `v${cur.Version}`) : NO_RELEASE;
    }
    return out;
  }

  secretsFile(): string {
    return flySecretsFilePath(this.ctx.env);
  }

  /** The ledger HMAC key: from OPS_LEDGER_KEY, else the `ops.settings` row (planned as a write when missing). */
  private async ledgerKeyPlan(): Promise<{
    key: Buffer;
    actions: Action[];
    ledger: (app: string) => Map<string, LedgerRow>;
    ledgers: Map<string, Map<string, LedgerRow>>;
  }> {
    const { ctx } = this;
    const env = ctx.env.environment;
    const read = await readOpsDb(
      ctx,
      "secret ledger",
      async (client) => {
        const { rows } = await client.query("SELECT value FROM ops.settings WHERE name = 'secret_ledger_key'");
        const ledgers = new Map<string, Map<string, LedgerRow>>();
        for (const app of ctx.config.deployOrder) ledgers.set(app, await readLedger(client, env, app));
        return { stored: rows[0] ? Buffer.from(String(rows[0].value), "hex") : undefined, ledgers, schema: true };
      },
      { stored: undefined as Buffer | undefined, ledgers: new Map<string, Map<string, LedgerRow>>(), schema: false },
    );
    const actions: Action[] = [];
    if (!read.schema)
      actions.push(
        action("db", "create the ops schema (deploy lock, history, secret ledger) in the target database", () =>
          withTargetDb(ctx, "ops schema", async () => undefined),
        ),
      );
    let key: Buffer;
    if (ctx.env.ledgerKey) key = createHash("sha256").update(`deploy-ops ledger\0${ctx.env.ledgerKey.reveal()}`).digest();
    else if (read.stored) key = read.stored;
    else {
      const fresh = randomBytes(32);
      key = fresh;
      actions.push(
        action("db", "store a new random ledger key in ops.settings (OPS_LEDGER_KEY is not set)", () =>
          withTargetDb(ctx, "secret ledger", async (client) => {
            await client.query("INSERT INTO ops.settings (name, value) VALUES ('secret_ledger_key', $1) ON CONFLICT (name) DO NOTHING", [
              fresh.toString("hex"),
            ]);
            const { rows } = await client.query("SELECT value FROM ops.settings WHERE name = 'secret_ledger_key'");
            if (String(rows[0].value) !== fresh.toString("hex")) {
              throw new DeployError("another run stored a different ledger key at the same time", { fix: "Run the sync again." });
            }
          }),
        ),
      );
    }
    return { key, actions, ledgers: read.ledgers, ledger: (app) => read.ledgers.get(app) ?? new Map() };
  }

  async planSecretsSync(runId: string, opts: { values?: ReadonlyMap<string, Secret> } = {}): Promise<SecretsSyncPlan> {
    const { ctx } = this;
    const { provider, flyctl } = this.fly;
    const secrets = resolveFlySecrets(ctx.config, ctx.env);
    for (const [key, value] of opts.values ?? []) secrets.values.set(key, value);
    maskSecretValues(ctx, secrets.values);
    for (const w of secrets.warnings) ctx.reporter.emit({ kind: "warn", message: w });
    const keyPlan = await this.ledgerKeyPlan();
    const actions: Action[] = [...keyPlan.actions];
    const staged: Record<string, string[]> = {};
    const pending: string[] = [];
    const rows: string[][] = [];
    for (const app of ctx.config.deployOrder) {
      const keys = ctx.config.apps[app]!.secrets;
      const flyApp = provider.flyApp(app);
      const fingerprints = Object.fromEntries(keys.map((k) => [k, fingerprintSecret(k, secrets.values.get(k)!, keyPlan.key)]));
      const onFly = await flyctl.json<FlySecretListing[]>(flySecretsList(flyApp), `listing secrets of ${flyApp}`);
      const changes = classifyKeys(keys, fingerprints, keyPlan.ledger(app), onFly);
      for (const k of keys) rows.push([app, flyApp, k, changes[k]!]);
      for (const extra of onFly.filter((s) => !keys.includes(s.name)))
        rows.push([app, flyApp, extra.name, "on Fly, not declared (left alone)"]);
      const waiting = onFly.filter((s) => keys.includes(s.name) && s.status === "Staged").map((s) => s.name);
      if (waiting.length > 0) {
        pending.push(app);
        ctx.reporter.emit({ kind: "info", message: `${flyApp}: ${waiting.join(", ")} staged earlier and not deployed yet` });
      }
      staged[app] = [];
      const push = keysToPush(changes);
      if (push.length === 0) continue;
      const outside = push.filter((k) => changes[k] === "changed-outside");
      if (outside.length)
        ctx.reporter.emit({
          kind: "warn",
          message: `${flyApp}: ${outside.join(", ")} changed outside this tool since our last push; our value is pushed again`,
          fix: "Set secrets only through the secrets file and `pnpm ops:secrets`.",
        });
      const payload = new Secret(serializeForFlyImport(importEntries(push, secrets.values)));
      let digests = new Map<string, string>();
      actions.push(
        cmdAction(
          `stage ${push.join(", ")} on ${flyApp} (values on stdin; no restart until the next deploy)`,
          flySecretsImportStaged(flyApp, payload),
          (cmd) => flyctl.run(cmd, `staging ${push.length} secrets on ${flyApp}`),
          { stdinKeys: push },
        ),
        cmdAction(
          `read the digests Fly now holds for ${flyApp}`,
          flySecretsList(flyApp),
          async (cmd) => {
            digests = new Map((await flyctl.json<FlySecretListing[]>(cmd, `listing secrets of ${flyApp}`)).map((s) => [s.name, s.digest]));
          },
          { kind: "check" },
        ),
        action("db", `record ${push.length} fingerprints for ${flyApp} in ops.secret_ledger`, () =>
          withTargetDb(ctx, "secret ledger", (client) =>
            recordPushed(
              client,
              ctx.env.environment,
              app,
              runId,
              push.map((k) => ({ key: k, fingerprint: fingerprints[k]!, flyDigest: digests.get(k) ?? null })),
            ),
          ),
        ),
      );
      staged[app] = push;
    }
    ctx.reporter.emit({
      kind: "table",
      title: `Secrets from ${secrets.source} (values never shown)`,
      columns: ["APP", "FLY APP", "KEY", "CHANGE"],
      rows,
    });
    const toApply = ctx.config.deployOrder.filter((a) => (staged[a]?.length ?? 0) > 0 || pending.includes(a));
    return {
      plan: { step: "secrets sync", actions },
      // Keys staged before this run go live with this run's deploys too (C-09 applies to them as well).
      detail: () => ({
        stagedFly: Object.fromEntries(
          Object.entries(staged).map(([a, keys]) => [a, keys.length ? keys : pending.includes(a) ? ["(staged earlier)"] : []]),
        ),
      }),
      applyActions: () => {
        // Stage everything first (the plan above), then apply app by app; a failure names what is live where.
        const applied: string[] = [];
        const keysOf = (a: string) => (staged[a]?.length ? staged[a]! : ["(staged earlier)"]);
        return toApply.map((app) =>
          cmdAction(
            `apply the staged secrets of ${provider.flyApp(app)} (fly secrets deploy restarts its machines)`,
            provider.secretsDeployCmd(app),
            async (cmd) => {
              try {
                await provider.deployStagedSecrets(app, cmd);
              } catch (err) {
                throw splitSecretsError(err as Error, {
                  failed: app,
                  applied,
                  pending: toApply.filter((a) => a !== app && !applied.includes(a)),
                  keysOf,
                  flyApp: (a) => provider.flyApp(a),
                });
              }
              applied.push(app);
              ctx.reporter.emit({ kind: "info", message: `${provider.flyApp(app)}: staged secrets applied` });
            },
          ),
        );
      },
    };
  }

  async planDeploy(app: string, run: { runId: string }): Promise<{ plan: Plan; outcome(): DeployOutcome }> {
    const cfg = this.ctx.config.apps[app]!;
    if (!cfg.fly)
      throw new UsageError(`apps.${app}.fly is not set in ops.config.ts`, { fix: "Give the app a fly.toml: fly: { config, public }." });
    const { provider } = this.fly;
    const before = currentRelease(await provider.releases(app));
    const cmd = provider.deployCmd(app, run.runId);
    let result: FlyAppRelease | undefined;
    const timer = new PhaseTimer();
    const actions: Action[] = [
      cmdAction(
        `deploy ${provider.flyApp(app)} (${cfg.image !== undefined ? `image ${cfg.image}, no build` : `remote build, image label ${run.runId}`}; running now: v${before?.Version ?? "-"})`,
        cmd,
        async (c) => {
          result = await provider.runDeploy(app, run.runId, c, before);
        },
      ),
    ];
    if (provider.isInternal(app)) {
      actions.push(
        cmdAction(
          `check ${provider.flyApp(app)} has no public IP (it is internal)`,
          provider.ipsCmd(app),
          (c) => provider.assertNoPublicIps(app, c),
          { kind: "check" },
        ),
      );
    }
    return {
      // fly deploy builds, releases and waits for health in one command: one phase, then the IP check.
      plan: { step: `deploy ${app}`, actions: timer.timeEach(["build + deploy + health", "check no public IP"], actions) },
      outcome: () => {
        const d = stepDetail(result!);
        return { app, previous: d.previous, release: d.release, detail: { ...d, phases: timer.phases } };
      },
    };
  }

  async planRollback(apps: string[], wanted: Record<string, string | undefined>): Promise<RollbackChoice[]> {
    const { provider } = this.fly;
    const history = await readOpsDb(this.ctx, "deploy history", (c) => listHistory(c, this.ctx.env.environment, 200), []);
    const choices: RollbackChoice[] = [];
    // One app after the other, in the order given: dry run and apply read the same things in the same order.
    for (const a of apps) {
      const p = await provider.planRollback(a, releasesToAvoid(history, a), wanted[a]);
      if (p.target) this.rollbackTargets.set(a, { target: p.target, before: currentRelease(p.releases), leaving: p.leavingMarker });
      const machines = p.split.reduce((n, s) => n + s.started + s.notStarted, 0);
      choices.push({
        app: a,
        from: p.from,
        ...(p.target
          ? {
              to: `v${p.target.Version} ${p.target.ImageRef}${p.mixed ? ` (all ${machines} machines)` : ""}`,
              toArg: `v${p.target.Version}`,
              expectRelease: provider.rollbackReleaseId(p.target),
              since: p.target.CreatedAt,
            }
          : { reason: p.reason ?? "no release to go back to" }),
      });
    }
    return choices;
  }

  rollbackActions(choice: RollbackChoice): { actions: Action[]; outcome(): AppRelease | undefined } {
    const { provider } = this.fly;
    const planned = this.rollbackTargets.get(choice.app);
    if (!planned) throw new Error(`rollbackActions(${choice.app}) before planRollback`);
    let result: FlyAppRelease | undefined;
    const actions: Action[] = [
      cmdAction(
        `redeploy ${provider.flyApp(choice.app)} with the image of v${planned.target.Version} (${planned.target.ImageRef}), no release command`,
        provider.rollbackCmd(choice.app, planned.target),
        async (c) => {
          result = await provider.runRollback(choice.app, planned.target, c, planned.before);
        },
      ),
    ];
    if (provider.isInternal(choice.app)) {
      actions.push(
        cmdAction(
          `check ${provider.flyApp(choice.app)} has no public IP (it is internal)`,
          provider.ipsCmd(choice.app),
          (c) => provider.assertNoPublicIps(choice.app, c),
          { kind: "check" },
        ),
      );
    }
    return {
      actions,
      // `previous` is the release being left (in a mixed state, the half-deployed one), so history marks it rolled back.
      outcome: () =>
        result && {
          app: choice.app,
          previous: planned.leaving ?? result.previous?.release ?? (result.previous ? `v${result.previous.version}` : null),
          release: result.release,
        },
    };
  }

  smokeTargets() {
    const { appsEnv } = this.fly;
    return { baseUrl: appsEnv.publicUrl, mustNotAnswer: appsEnv.mustNotAnswer, appUrls: appsEnv.appUrls };
  }

  markSmokeFailed(): void {
    // Fly keeps no per-release flag; the deploy history records the failed run.
  }

  /** C-09: apps that got staged secrets in this run but were not deployed in it still run the old values. */
  finishActions(steps: Record<string, { detail: unknown }>): Action[] {
    const staged = (steps["sync-secrets"]?.detail as { stagedFly?: Record<string, string[]> } | undefined)?.stagedFly ?? {};
    const skipped = Object.entries(staged)
      .filter(([app, keys]) => keys.length > 0 && !steps[`deploy-${app}`])
      .map(([app]) => app);
    const { provider } = this.fly;
    return skipped.map((app) =>
      cmdAction(
        `apply the staged secrets of ${provider.flyApp(app)} (${staged[app]!.join(", ")}): it was not deployed in this run`,
        provider.secretsDeployCmd(app),
        async (cmd) => {
          try {
            await provider.deployStagedSecrets(app, cmd);
          } catch (err) {
            throw new DeployError(
              `${provider.flyApp(app)} still runs the old values of ${staged[app]!.join(", ")}: ${(err as Error).message}`,
              {
                where: provider.flyApp(app),
                fix: `Deploy it (pnpm turbo run production-deploy, unfiltered) or run \`fly secrets deploy -a ${provider.flyApp(app)}\` once it has machines.`,
              },
            );
          }
        },
      ),
    );
  }

  logSources(): string[] {
    return [...this.ctx.config.deployOrder];
  }

  /**
   * `fly logs -a <app> --no-tail` (what Fly buffered), filtered here by `--since`, `--grep` and
   * `-n`; with `follow`, `fly logs -a <app>` streams until the signal stops it (each line filtered
   * by `--grep`, and by `--since` when it carries a timestamp).
   */
  async logs(req: LogsRequest, onLine: (line: string) => void): Promise<void> {
    const { provider, flyctl } = this.fly;
    const flyApp = provider.flyApp(req.source);
    const what = `reading the logs of ${flyApp}`;
    if (!req.follow) {
      const res = await flyctl.run(flyLogs(flyApp, { follow: false }), what, { signal: req.signal });
      const read = selectLogLines(splitLines(res.stdout), req);
      for (const line of read.lines) onLine(line);
      const warning = splitLines(res.stderr).find((l) => /not authorized|warn/i.test(l));
      if (warning)
        this.ctx.reporter.emit({
          kind: "warn",
          message: `flyctl: ${warning}`,
          fix: "Deploy tokens may lack the right to read logs; read them with a token that has it (your own, after `fly auth login`).",
        });
      return;
    }
    this.ctx.reporter.emit({ kind: "info", message: `following the logs of ${flyApp} (Ctrl-C stops)` });
    await flyctl.run(flyLogs(flyApp, { follow: true }), what, {
      signal: req.signal,
      onStdoutLine: (line) => {
        const t = logLineTime(line);
        if (req.sinceEpochMs !== undefined && t !== undefined && t < req.sinceEpochMs) return;
        if (req.grep && !req.grep.test(line)) return;
        onLine(line);
      },
    });
  }

  async status(): Promise<unknown> {
    const { provider, appsEnv } = this.fly;
    const rows: string[][] = [];
    const data = [];
    for (const app of this.ctx.config.deployOrder) {
      const [releases, status] = await Promise.all([provider.releases(app), provider.status(app)]);
      const cur = currentRelease(releases);
      const machines = status.Machines ?? [];
      const started = machines.filter((m) => m.state === "started").length;
      const checks = machines.flatMap((m) => m.checks ?? []);
      const passing = checks.filter((c) => c.status === "passing").length;
      const images = [...new Set(machines.map(machineImage).filter(Boolean))];
      rows.push([
        app,
        provider.flyApp(app),
        cur ? `v${cur.Version}` : "-",
        cur ? (releaseIdOfImage(cur.ImageRef) ?? "-") : "-",
        images.join(", ") || "-",
        `${started}/${machines.length} started`,
        checks.length ? `${passing}/${checks.length} passing` : "-",
      ]);
      data.push({
        app,
        flyApp: provider.flyApp(app),
        release: cur ?? null,
        machines: machines.map((m) => ({ id: m.id, state: m.state, image: machineImage(m) })),
      });
    }
    this.ctx.reporter.emit({
      kind: "table",
      title: `Apps (${this.ctx.env.environment}, ${appsEnv.publicUrl})`,
      columns: ["APP", "FLY APP", "VERSION", "RELEASE", "IMAGE", "MACHINES", "CHECKS"],
      rows,
    });
    return { apps: data };
  }

  private neon() {
    return neonFor(this.ctx, this.fly.appsEnv);
  }

  private restorePointAction(runId: string, onTaken: (id: string) => void): Action {
    const { ctx } = this;
    return action(
      "http",
      "take a restore point: a Neon branch off the production branch, now (Neon API: create branch)",
      async () => {
        const neon = this.neon();
        const point = await createRestorePoint(neon.client, {
          projectId: neon.projectId,
          branchId: neon.branchId,
          runId,
          poll: { intervalMs: ctx.config.neon.pollIntervalMs, timeoutMs: ctx.config.neon.pollTimeoutMs },
        });
        onTaken(point.branchId);
        ctx.reporter.emit({
          kind: "info",
          message: `restore point ${point.name} (${point.branchId}) taken at ${point.parentTimestamp}; \`pnpm ops:rollback --db\` restores it`,
        });
      },
      { timeoutMs: ctx.config.neon.pollTimeoutMs },
    );
  }

  /**
   * What a restore of `branchName` overwrites, read over one direct connection: the databases on
   * the branch and the migrations table. Never fatal (a broken database is a reason to restore):
   * what cannot be read is named as such in the plan.
   */
  private async restoreFacts(
    branchName: string,
  ): Promise<{ databases: BranchDatabases; migrations: AppliedMigrationRow[] | { error: string } }> {
    const from = `read with \`${LIST_DATABASES_SQL}\` over ${this.database.source}, the direct endpoint of ${branchName}`;
    const firstLine = (err: unknown) => (err as Error).message.split("\n")[0]!;
    try {
      return await readTargetDb(this.ctx, "restore plan", async (client) => ({
        databases: await listBranchDatabases(client).then(
          (names) => ({ names, from }),
          (err: unknown) => ({ error: firstLine(err), from }),
        ),
        migrations: await readMigrationsTable(client).catch((err: unknown) => ({ error: firstLine(err) })),
      }));
    } catch (err) {
      return { databases: { error: firstLine(err), from }, migrations: { error: firstLine(err) } };
    }
  }

  private async restorePlan(source: RestoreSource) {
    const { ctx } = this;
    const neon = this.neon();
    const plan =
      "restorePoint" in source
        ? await planDatabaseRestore(neon.client, {
            projectId: neon.projectId,
            branchId: neon.branchId,
            restorePointBranchId: source.restorePoint,
          })
        : await planDatabaseRestoreToTime(neon.client, {
            projectId: neon.projectId,
            branchId: neon.branchId,
            at: source.time,
            window: this.fly.appsEnv.neon!.restoreWindow,
          });
    const { databases, migrations } = await this.restoreFacts(plan.target.name);
    const what = plan.source.kind === "restore-point" ? `from ${plan.source.branchId}` : `to ${plan.source.timestamp} (its own history)`;
    let snapshot: OpsSnapshot | undefined;
    const actions: Action[] = [
      action(
        "db",
        "copy this environment's ops rows (history, ledger, settings, lock) aside, to keep them across the restore",
        async () => {
          snapshot = await withTargetDb(ctx, "deploy history", async (c) =>
            (await opsSchemaPresent(c)) ? snapshotOpsState(c, ctx.env.environment) : undefined,
          );
        },
      ),
      action(
        "http",
        `restore ${plan.target.name} ${what}, preserving its current state as ${plan.preserveUnderName} (Neon API: POST …/branches/${plan.target.branchId}/restore)`,
        async () => {
          const r = await applyDatabaseRestore(neon.client, plan, {
            poll: { intervalMs: ctx.config.neon.pollIntervalMs, timeoutMs: ctx.config.neon.pollTimeoutMs },
          });
          ctx.reporter.emit({
            kind: "info",
            message: `restored ${plan.target.name} ${what}; its previous state is kept as branch ${r.preservedBranchName} (${r.preservedBranchId})`,
          });
        },
        { timeoutMs: ctx.config.neon.pollTimeoutMs },
      ),
      action("db", "write the ops rows back (the restore overwrote them)", async () => {
        if (!snapshot) return;
        await withTargetDb(ctx, "deploy history", (c) => restoreOpsState(c, snapshot!));
        ctx.reporter.emit({
          kind: "info",
          message: `kept the deploy history (${snapshot.history.length} runs) and the secret ledger across the restore`,
        });
      }),
    ];
    return {
      lines: [...describeRestorePlan(plan, databases), describeUndoneMigrations(migrations, plan.source.timestamp)],
      confirmWord: plan.target.name,
      actions,
    };
  }
}
