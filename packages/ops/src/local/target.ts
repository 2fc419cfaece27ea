import { existsSync } from "node:fs";
import type { OpsConfig } from "../config/schema.ts";
import type { OpsContext } from "../context.ts";
import { builtApp, isImageOnly, notRunLocallyLine } from "../config/app-kind.ts";
import { ConfigError, DeployError, PreflightError } from "../errors.ts";
import { action, type Action, type Plan } from "../plan/plan.ts";
import { PhaseTimer } from "../plan/phases.ts";
import { checkLocalPorts, checkLocalSecrets, describeLocalLayout } from "../preflight/local-checks.ts";
import type { PreflightCheck } from "../preflight/check.ts";
import { diffFingerprints, SecretLedger, type AppFingerprints } from "../secrets/ledger.ts";
import { missingGeneratedKeys, resolveLocalSecrets } from "../secrets/local-source.ts";
import type { Secret } from "../secrets/secret.ts";
import { secretRuleViolations } from "../secrets/rules.ts";
import type {
  AppRelease,
  DeployOutcome,
  LocalProcesses,
  LogsRequest,
  RollbackChoice,
  SecretsSyncPlan,
  ServingState,
  Target,
  TargetDatabase,
} from "../target/target.ts";
import { NO_RELEASE } from "../target/target.ts";
import { followLocalLog, LOCAL_PROCESS_LOGS, localLogFile, readLocalLog } from "./logs.ts";
import { damagedAppStates, readAppState, rollbackChoice } from "./app-state.ts";
import { ensureLocalPostgres, localDatabaseUrl, postgresDataDir, runningPostgres, stopLocalPostgres } from "./postgres.ts";
import { LocalProvider, type StartedRelease } from "./provider.ts";
import { purgeEnvironment, purgeTargets, shownPurgeTarget } from "./purge.ts";
import { stopRouter } from "./router.ts";
import { maskSecretValues } from "../secrets/mask-values.ts";

/** The config without the apps the local target cannot run (image-only apps). */
function runnableConfig(config: OpsConfig): OpsConfig {
  const runs = (app: string) => !isImageOnly(config.apps[app]!);
  return {
    ...config,
    apps: Object.fromEntries(Object.entries(config.apps).filter(([app]) => runs(app))),
    deployOrder: config.deployOrder.filter(runs),
  };
}

/** `32 random bytes each`, or each key's own size when they differ (`secrets.bytes`). */
function describeBytes(keys: string[], bytes: Record<string, number>): string {
  const sizes = new Set(keys.map((k) => bytes[k] ?? 32));
  return sizes.size === 1 ? `${[...sizes][0]} random bytes each` : keys.map((k) => `${k}: ${bytes[k] ?? 32} random bytes`).join(", ");
}
import { processesUnder, terminate } from "./env-processes.ts";
import { verifySnapshot, type ArtifactSnapshot } from "../artifacts/snapshot.ts";

/**
 * The local target: the embedded Postgres (or `DATABASE_URL`), releases as folders run by
 * supervisors on loopback, a router on each app's stable port.
 */
export class LocalTarget implements Target {
  readonly name = "local";
  readonly rotateStagesAtOnce = false;
  readonly shipsBuildOutputs = true;
  readonly provider: LocalProvider;
  readonly database: TargetDatabase;
  readonly processes: LocalProcesses;

  constructor(private readonly ctx: OpsContext) {
    // The provider runs processes: it only ever sees the apps this target runs (not the image-only ones).
    this.provider = new LocalProvider(runnableConfig(ctx.config), ctx.env, (fn) => ctx.onInterrupt(fn));
    this.database = {
      source: ctx.env.databaseUrl ? "DATABASE_URL" : "the local Postgres",
      url: (opts) => this.databaseUrl(opts.start),
      startActions: () => this.databaseStartActions(),
    };
    this.processes = {
      upPlan: () => this.upPlan(),
      downPlan: (purge) => this.downPlan(purge),
      publicUrl: () => this.provider.publicUrl(),
    };
  }

  private get env() {
    return this.ctx.env;
  }

  private async databaseUrl(start: boolean): Promise<Secret> {
    const { env } = this;
    if (env.databaseUrl) return env.databaseUrl;
    const paths = this.provider.paths;
    if (!start && !runningPostgres(paths)) {
      throw new ConfigError(
        `the local database of environment "${env.environment}" is not running, so there is no lock or history to read`,
        {
          fix: existsSync(paths.secretsFile)
            ? "Start it with `pnpm ops:local up`."
            : "Nothing was deployed here yet: run `pnpm turbo run production-deploy`.",
        },
      );
    }
    const secrets = resolveLocalSecrets(this.ctx.config, env, { create: start });
    if (!secrets.postgresPassword) {
      throw new ConfigError(`nothing was deployed in environment "${env.environment}" yet`, {
        fix: "Run `pnpm turbo run production-deploy` first.",
      });
    }
    this.ctx.addSecret(secrets.postgresPassword);
    if (start) {
      const { started } = await ensureLocalPostgres(paths, {
        port: env.localPorts.postgres,
        password: secrets.postgresPassword,
        baseEnv: env.processEnv,
      });
      if (started) this.ctx.reporter.emit({ kind: "info", message: `started the local Postgres on 127.0.0.1:${env.localPorts.postgres}` });
    }
    const url = localDatabaseUrl(secrets.postgresPassword, env.localPorts.postgres);
    this.ctx.addSecret(url);
    return url;
  }

  private databaseStartActions(): Action[] {
    if (this.env.databaseUrl || runningPostgres(this.provider.paths)) return [];
    return [
      action(
        "process",
        `start the local Postgres on 127.0.0.1:${this.env.localPorts.postgres} (data in ${postgresDataDir(this.provider.paths)})`,
        () => this.databaseUrl(true),
        {
          path: this.provider.paths.postgresDir,
        },
      ),
    ];
  }

  repairActions(): Action[] {
    const repairs = this.provider.repairs();
    for (const message of damagedAppStates())
      this.ctx.reporter.emit({ kind: "warn", message, fix: "Nothing to do: the repairs below record what serves." });
    return repairs.map((r) =>
      r.rereadAfter
        ? action("process", `repair: ${r.description}; then what the repaired routes show`, async () => {
            await r.apply();
            for (const next of this.provider.repairs()) {
              this.ctx.reporter.emit({ kind: "info", message: `repair: ${next.description}` });
              await next.apply();
            }
          })
        : action("process", `repair: ${r.description}`, () => r.apply()),
    );
  }

  notRunHere(app: string): string | undefined {
    const cfg = this.ctx.config.apps[app];
    return cfg && isImageOnly(cfg) ? notRunLocallyLine(app) : undefined;
  }

  /** The apps this target runs, in deploy order (image-only apps are not run here). */
  private runApps(): string[] {
    return this.ctx.config.deployOrder.filter((app) => !this.notRunHere(app));
  }

  preflightChecks(): Record<string, PreflightCheck> {
    const notRun = this.ctx.config.deployOrder.flatMap((app) => {
      const line = this.notRunHere(app);
      return line ? [{ id: `apps.${app}`, status: "pass" as const, message: line }] : [];
    });
    return {
      secrets: checkLocalSecrets,
      ports: checkLocalPorts,
      state: (c) => [describeLocalLayout(c)],
      ...(notRun.length ? { apps: () => notRun } : {}),
    };
  }

  async servingNow(apps: string[], runId: string): Promise<Record<string, ServingState>> {
    // A local deploy switches traffic only once the new release is healthy: never a mix.
    return Object.fromEntries(
      apps.map((app) => {
        const current = this.provider.currentRelease(app);
        const state: ServingState["state"] = !current ? "none" : current === runId ? "this-run" : "previous";
        return [app, { state, detail: current ? `release ${current}` : "nothing serves" }];
      }),
    );
  }

  async currentReleases(): Promise<Record<string, string>> {
    return Object.fromEntries(this.runApps().map((app) => [app, this.provider.currentRelease(app) ?? NO_RELEASE]));
  }

  secretsFile(): string {
    return this.env.secretsFile ?? this.provider.paths.secretsFile;
  }

  private resolveSecrets(create: boolean) {
    const resolved = resolveLocalSecrets(this.ctx.config, this.env, { create });
    maskSecretValues(this.ctx, resolved.values);
    return resolved;
  }

  async planSecretsSync(_runId: string, opts: { create: boolean }): Promise<SecretsSyncPlan> {
    const { config } = this.ctx;
    const preview = this.resolveSecrets(false);
    const missing = missingGeneratedKeys(config, this.env);
    const ledger = new SecretLedger(this.env.stateDir, this.env.environment);
    const rows: string[][] = [];
    for (const app of config.deployOrder) {
      const keys = config.apps[app]!.secrets;
      const line = this.notRunHere(app);
      if (line) {
        // Its generated keys are still made, so the same secrets file works on fly.
        this.ctx.reporter.emit({ kind: "info", message: line });
        for (const key of keys)
          rows.push([
            app,
            key,
            preview.sources.get(key) ?? (config.secrets.generated.includes(key) ? "(generated on first run)" : "(not needed here)"),
            "not run here",
          ]);
        continue;
      }
      const diff = diffFingerprints(ledger.deployed(app), ledger.fingerprints(keys, preview.values, { create: false }));
      for (const key of keys) rows.push([app, key, preview.sources.get(key) ?? "(generated on first run)", diff[key] ?? "new"]);
    }
    for (const w of preview.warnings) this.ctx.reporter.emit({ kind: "warn", message: w });
    this.ctx.reporter.emit({
      kind: "table",
      title: "Secrets per app (values never shown)",
      columns: ["APP", "KEY", "SOURCE", "VS DEPLOYED"],
      rows,
    });
    let staged: Record<string, AppFingerprints> = {};
    const actions: Action[] = [];
    if (missing.length > 0) {
      actions.push(
        action(
          "file",
          `generate ${missing.join(", ")} (${describeBytes(missing, config.secrets.bytes)}) into ${this.provider.paths.secretsFile} (mode 0600)`,
          () => {
            const r = this.resolveSecrets(opts.create);
            if (r.generated.length)
              this.ctx.reporter.emit({ kind: "info", message: `generated ${r.generated.join(", ")} (stored with mode 0600)` });
          },
          { path: this.provider.paths.secretsFile },
        ),
      );
    }
    actions.push(
      action(
        "file",
        `stage each app's secret fingerprints for this run (ledger key in ${ledger.folder})`,
        () => {
          const r = this.resolveSecrets(opts.create);
          staged = Object.fromEntries(this.runApps().map((app) => [app, ledger.fingerprints(config.apps[app]!.secrets, r.values)]));
        },
        { path: ledger.folder },
      ),
    );
    return { plan: { step: "secrets sync", actions }, detail: () => ({ staged }), applyActions: () => [] };
  }

  /** The app's declared secrets, checked against what the sync step staged for this run. */
  private appSecrets(app: string, staged: AppFingerprints | undefined, create: boolean): Map<string, Secret> {
    const resolved = this.resolveSecrets(create);
    const keys = this.ctx.config.apps[app]!.secrets;
    const broken = secretRuleViolations(this.ctx.config, resolved.values).filter((v) => keys.includes(v.key));
    if (broken.length > 0) {
      throw new DeployError(`${app} would refuse its secrets: ${broken.map((v) => v.message).join("; ")}`, {
        where: broken.map((v) => resolved.sources.get(v.key) ?? v.key).join(", "),
        fix: "Fix the values (see secrets.rules in ops.config.ts); nothing was started or switched.",
      });
    }
    if (staged) {
      const now = new SecretLedger(this.env.stateDir, this.env.environment).fingerprints(keys, resolved.values, { create: false });
      const moved = keys.filter((k) => now[k] !== staged[k]);
      if (moved.length > 0) {
        throw new DeployError(`secrets of ${app} changed after the sync step staged them: ${moved.join(", ")}`, {
          fix: "Start a new run so the new values are staged and checked: `pnpm turbo run production-deploy`.",
        });
      }
    }
    return new Map(keys.filter((k) => resolved.values.has(k)).map((k) => [k, resolved.values.get(k)!]));
  }

  /** Start, health wait, route: the actions that make `releaseId` (an existing folder) serve `app`. */
  private activateActions(
    app: string,
    releaseId: string,
    via: "deploy" | "rollback" | "restart",
    secrets: () => Map<string, Secret>,
    done: (r: AppRelease) => void,
    timer = new PhaseTimer(),
  ): Action[] {
    const p = this.provider;
    let started: StartedRelease | undefined;
    const progress = (message: string) => this.ctx.reporter.emit({ kind: "info", message });
    // What serves once the pending repairs ran (they come first in every plan): a dry run plans as apply runs.
    const previous = p.servingAfterRepairs(app);
    let reported = 0;
    // switchTraffic reports the switched route first; what follows is stopping the previous release.
    const routed = (message: string) => {
      progress(message);
      if (reported++ === 0 && previous && previous !== releaseId) timer.next("stop old");
    };
    const actions: Action[] = [
      action(
        "process",
        `start ${app} release ${releaseId} under a supervisor on a free loopback port`,
        async () => {
          started = await p.startRelease(app, releaseId, secrets());
          progress(
            `${app}: started release ${releaseId} on 127.0.0.1:${started.port} (supervisor pid ${started.pid}); waiting up to ${p.healthTimeoutMs(app)} ms for health`,
          );
        },
        { argv: p.releaseCommand(app), envKeys: p.releaseEnvKeys(app) },
      ),
      action("wait", p.healthDescription(app, releaseId), () => p.awaitHealthy(started!), { timeoutMs: p.healthTimeoutMs(app) }),
      action(
        "process",
        // A restart (`ops:local up`) brings back the current release itself: there is no other to stop.
        previous && previous !== releaseId
          ? `route 127.0.0.1:${p.publicPort(app)} to it, then stop the previous release (${previous})`
          : `route 127.0.0.1:${p.publicPort(app)} to it`,
        async () => {
          done(await this.ctx.critical(() => p.switchTraffic(started!, via, routed)));
        },
      ),
    ];
    return timer.timeEach(["start", "health wait", "switch"], actions);
  }

  async planDeploy(
    app: string,
    run: { runId: string; gitSha: string },
    staged: AppFingerprints | undefined,
    snapshot?: ArtifactSnapshot,
  ): Promise<{ plan: Plan; outcome(): DeployOutcome }> {
    const cfg = builtApp(app, this.ctx.config.apps[app]!);
    const p = this.provider;
    // A pipeline run ships its own build: the snapshot production-artifacts made (artifacts/snapshot.ts).
    if (this.ctx.flags.pipeline && !this.ctx.flags.dryRun && !snapshot && cfg.artifacts.length > 0) {
      throw new DeployError(`run ${run.runId} has no build snapshot of ${app}`, {
        fix: "The production-artifacts task must run first; start the whole pipeline with `pnpm turbo run production-deploy`.",
      });
    }
    const missing = snapshot ? [] : p.missingArtifacts(app);
    if (missing.length > 0) {
      throw new DeployError(`no build output for ${app}: ${missing.join(", ")} not found`, {
        where: cfg.dir,
        fix: "Build first: `pnpm turbo run build` (production-deploy does it for you).",
      });
    }
    const secrets = this.appSecrets(app, staged, staged === undefined && !this.ctx.flags.dryRun);
    let result: AppRelease | undefined;
    const ledger = new SecretLedger(this.env.stateDir, this.env.environment);
    const dir = p.paths.releaseDir(app, run.runId);
    const timer = new PhaseTimer();
    const copy = snapshot
      ? [
          action("check", `check the build snapshot ${snapshot.digest} of ${app} is unchanged (${snapshot.dir})`, () =>
            verifySnapshot(snapshot),
          ),
          timer.time(
            "copy",
            action(
              "file",
              `copy the build snapshot ${snapshot.digest.slice(0, 19)}… (${cfg.artifacts.join(", ")}) into the new release folder ${dir}`,
              () => {
                p.createRelease({ app, releaseId: run.runId, gitSha: run.gitSha, runId: run.runId, from: snapshot.dir });
              },
              { path: dir },
            ),
          ),
        ]
      : [
          timer.time(
            "copy",
            action(
              "file",
              `copy ${cfg.artifacts.map((a) => `${cfg.dir}/${a}`).join(", ")} into the new release folder ${dir}`,
              () => {
                p.createRelease({ app, releaseId: run.runId, gitSha: run.gitSha, runId: run.runId });
              },
              { path: dir },
            ),
          ),
        ];
    const actions: Action[] = [
      ...copy,
      ...this.activateActions(
        app,
        run.runId,
        "deploy",
        () => secrets,
        (r) => (result = r),
        timer,
      ),
      timer.time(
        "record secrets",
        action(
          "file",
          `record the fingerprints of the ${cfg.secrets.length} secrets it got (${cfg.secrets.join(", ") || "none"})`,
          () => {
            ledger.recordDeployed(app, ledger.fingerprints(cfg.secrets, secrets));
          },
          { path: ledger.folder },
        ),
      ),
    ];
    return {
      plan: { step: `deploy ${app}`, actions },
      outcome: () => ({ ...result!, detail: { ...result!, phases: timer.phases } }),
    };
  }

  async planRollback(apps: string[], wanted: Record<string, string | undefined>): Promise<RollbackChoice[]> {
    return apps.map((a) => {
      const state = readAppState(this.provider.paths, a);
      const from = this.provider.currentRelease(a) ?? "(none)";
      if (wanted[a] && wanted[a] === state.current) return { app: a, from, reason: `${wanted[a]} is already the current release` };
      const choice = rollbackChoice(state, wanted[a]);
      if (!("release" in choice)) return { app: a, from, reason: choice.reason };
      const target = choice.release;
      return { app: a, from, to: target.id, toArg: target.id, expectRelease: target.id, since: target.createdAt };
    });
  }

  rollbackActions(
    choice: RollbackChoice,
    via: "rollback" | "restart" = "rollback",
  ): { actions: Action[]; outcome(): AppRelease | undefined } {
    let result: AppRelease | undefined;
    const keys = this.ctx.config.apps[choice.app]!.secrets;
    const secrets = () => {
      this.provider.rollbackRelease(choice.app, choice.toArg);
      const resolved = this.resolveSecrets(false);
      return new Map(keys.map((k) => [k, resolved.values.get(k)!]));
    };
    return { actions: this.activateActions(choice.app, choice.toArg!, via, secrets, (r) => (result = r)), outcome: () => result };
  }

  smokeTargets() {
    const appUrls = Object.fromEntries(this.runApps().map((app) => [app, `http://127.0.0.1:${this.provider.publicPort(app)}`]));
    const down = this.provider.notServing();
    return {
      baseUrl: this.provider.publicUrl(),
      mustNotAnswer: [],
      appUrls,
      ...(down.length ? { nothingServes: `${down.join("; ")}; start what should run with \`pnpm ops:local up\`` } : {}),
    };
  }

  markSmokeFailed(releases: AppRelease[]): void {
    for (const r of releases) this.provider.markFailed(r.app, r.release);
  }

  finishActions(): Action[] {
    return [];
  }

  logSources(): string[] {
    const apps = this.runApps();
    return [...apps, ...LOCAL_PROCESS_LOGS.filter((p) => !apps.includes(p))];
  }

  async logs(req: LogsRequest, onLine: (line: string) => void): Promise<void> {
    const apps = this.runApps();
    if (req.source === "postgres" && !apps.includes("postgres") && this.env.databaseUrl) {
      throw new ConfigError("this environment uses DATABASE_URL, not the local Postgres, so there is no Postgres log here", {
        where: "DATABASE_URL",
        fix: "Read the log of the server DATABASE_URL points at.",
      });
    }
    const locate = () => localLogFile(this.provider.paths, apps, req.source, this.env.environment);
    const file = locate();
    const read = readLocalLog(file.path, req);
    if (read.undated)
      this.ctx.reporter.emit({
        kind: "warn",
        message: `${file.path} has no timestamps, so --since cannot filter it; showing the last lines instead`,
      });
    for (const line of read.lines) onLine(line);
    if (!req.follow) return;
    this.ctx.reporter.emit({ kind: "info", message: `following ${file.path} (Ctrl-C stops)` });
    await followLocalLog({
      locate,
      from: { ...file, offset: read.size },
      ...(req.grep ? { grep: req.grep } : {}),
      onLine,
      onSwitch: (to) =>
        this.ctx.reporter.emit({ kind: "info", message: `${req.source} now serves release ${to.release ?? "?"}: following ${to.path}` }),
      signal: req.signal,
    });
  }

  async status(): Promise<unknown> {
    for (const app of this.ctx.config.deployOrder) {
      const line = this.notRunHere(app);
      if (line) this.ctx.reporter.emit({ kind: "info", message: line });
    }
    const rows = await this.provider.status();
    this.ctx.reporter.emit({
      kind: "table",
      title: `Apps (${this.env.environment}, public URL ${this.provider.publicUrl()})`,
      columns: ["APP", "RELEASE", "STATE", "PIDS (SUPERVISOR/APP)", "ADDRESS", "UPSTREAM", "HEALTH"],
      rows: rows.map((r) => [r.app, r.release ?? "-", r.state, r.pids, r.address, r.upstream, r.health]),
    });
    for (const r of rows.filter((row) => row.release && !row.running)) {
      this.ctx.reporter.emit({
        kind: "warn",
        message: `${r.app} release ${r.release} is ${r.state}`,
        fix: `See why: \`pnpm ops:logs --app ${r.app} -n 50\`; start it again under a supervisor: \`pnpm ops:local up\`.`,
      });
    }
    for (const message of damagedAppStates()) this.ctx.reporter.emit({ kind: "warn", message, fix: "Repair it now: `pnpm ops:local up`." });
    for (const r of this.provider.repairs())
      this.ctx.reporter.emit({
        kind: "warn",
        message: `state is behind the processes: ${r.description}`,
        fix: "The next deploy, rollback or `pnpm ops:local up` repairs it.",
      });
    const pg = runningPostgres(this.provider.paths);
    this.ctx.reporter.emit({
      kind: "info",
      message: this.env.databaseUrl
        ? "database: DATABASE_URL"
        : pg
          ? `database: embedded Postgres on 127.0.0.1:${pg.port} (${pg.postgresPid ? `server pid ${pg.postgresPid}, ` : ""}supervised by pid ${pg.pid})`
          : "database: the local Postgres is not running (no lock or history to show); `pnpm ops:local up` starts it and the current releases",
    });
    return { apps: rows, database: this.env.databaseUrl ? "DATABASE_URL" : pg ? "running" : "stopped" };
  }

  private async upPlan(): Promise<Plan> {
    // Only what is not running already: `up` twice must not start a second copy. An app the router
    // serves from a release the state does not know yet is serving: the repair records it.
    const current = this.ctx.config.deployOrder
      .map((app) => ({ app, to: readAppState(this.provider.paths, app).current }))
      .filter(
        (c): c is { app: string; to: string } =>
          c.to !== null && !this.provider.isServing(c.app) && this.provider.routedRelease(c.app) === undefined,
      );
    const start = this.databaseStartActions();
    // A taken port is found before anything starts, so a refused `up` leaves everything as it was.
    if (start.length > 0 || current.length > 0) {
      const taken = (await checkLocalPorts(this.ctx)).filter((r) => r.status === "fail");
      if (taken.length > 0)
        throw new PreflightError(`${taken.map((t) => t.message).join("; ")}; nothing was started`, {
          where: taken.map((t) => t.where).join(", "),
          fix: taken.map((t) => t.fix).join(" "),
        });
    }
    const actions: Action[] = [...start, ...this.repairActions()];
    for (const c of current) {
      actions.push(...this.rollbackActions({ app: c.app, from: c.to, to: c.to, toArg: c.to, expectRelease: c.to }, "restart").actions);
    }
    const deployed = this.ctx.config.deployOrder.some((app) => readAppState(this.provider.paths, app).current !== null);
    const notes = current.length
      ? []
      : [deployed ? "every current release already runs" : "no release deployed yet; run `pnpm turbo run production-deploy`"];
    return { step: "local up", actions, notes };
  }

  private downPlan(purge: boolean): Plan {
    const p = this.provider;
    const say = (message: string) => this.ctx.reporter.emit({ kind: "info", message });
    const actions: Action[] = [
      action("process", "stop every release of this environment", async () => {
        const stopped = await p.stopApps();
        say(stopped.length ? `stopped ${stopped.join(", ")}` : "no release was running");
      }),
      action("process", "stop the router", async () => say(`router: ${await stopRouter(p.paths)}`)),
      action("process", "stop the local Postgres", async () => say(`postgres: ${await stopLocalPostgres(p.paths)}`)),
      action("process", `stop any other process still running in ${p.paths.root}`, async () => {
        const left = processesUnder([p.paths.root, postgresDataDir(p.paths)]);
        if (left.length === 0) return;
        await terminate(left, 10_000);
        say(
          `stopped ${left.length} process${left.length > 1 ? "es" : ""} no state file recorded: ${left.map((x) => `${x.pid} (${x.command.slice(0, 60)})`).join(", ")}`,
        );
      }),
    ];
    if (purge) {
      const targets = purgeTargets(this.env, postgresDataDir(p.paths), p.paths.root);
      actions.push(
        action(
          "file",
          `delete the local state of "${this.env.environment}": ${targets.map((t) => shownPurgeTarget(this.env.stateDir, t)).join(", ")}`,
          () => {
            const removed = purgeEnvironment(this.env, targets);
            this.ctx.reporter.emit({
              kind: "warn",
              message: `deleted the local state of "${this.env.environment}": ${removed.join(", ")}`,
            });
          },
        ),
      );
    }
    return { step: "local down", actions };
  }
}
