import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { builtApp, type BuiltAppConfig } from "../config/app-kind.ts";
import type { AppConfig, OpsConfig } from "../config/schema.ts";
import type { OpsEnv } from "../env.ts";
import { DeployError, RollbackError } from "../errors.ts";
import type { Secret } from "../secrets/secret.ts";
import { writingTo } from "../state/fs-errors.ts";
import { appStateWasDamaged, KEEP_RELEASES, readAppState, rollbackTarget, writeAppState, type LocalRelease } from "./app-state.ts";
import { minimalChildEnv } from "./child-env.ts";
import { checkGrpcHealth, healthzApp, httpGet, type HealthzBody } from "./health.ts";
import { waitFor } from "./wait.ts";
import { localPaths, type LocalPaths } from "./paths.ts";
import { freePort, isAlive, readJson, spawnDetached, stopProcess, tailFile, writeJsonAtomic } from "./process-utils.ts";
import { readRoutes, repairRouterFiles, routerFilesDamaged, routerPid, setRoute } from "./router.ts";
import { groupMembers, processesUnder, stopGroup, terminate, type EnvProcess } from "./env-processes.ts";
import type { AppRelease } from "../target/target.ts";
import type { ServedEntry } from "../release/previous.ts";
import { localAppPort } from "./ports.ts";

/** A release process started but not yet routed. */
export interface StartedRelease {
  app: string;
  releaseId: string;
  /** Supervisor pid. */
  pid: number;
  /** Loopback port it listens on. */
  port: number;
  logFile: string;
  /** Unregisters its interrupt cleanup (once routed or stopped). */
  forget: () => void;
}

const LOOPBACK = "127.0.0.1";

/** One repair of what a killed run left; it checks again when applied. */
export interface LocalRepair {
  /** The app it concerns, or null for the environment's own processes (the router). */
  app: string | null;
  description: string;
  /** The other repairs read what this one fixes: plan them again once it is applied. */
  rereadAfter?: boolean;
  apply(): Promise<void>;
}

/** A release folder with live processes: its supervisor (`pid`, also the process group id) or, when that was killed, the app it left. */
export interface LiveRelease {
  releaseId: string;
  /** Supervisor pid, which is also the process group of the release's processes. */
  pid: number;
  port: number | undefined;
  supervised: boolean;
  /** The app processes left running when the supervisor is gone. */
  appPids?: number[];
}

/**
 * Why the current release of an app does not run, from its last supervisor state: `crashed` (the
 * supervisor gave up restarting it), `stopped` (stopped on purpose), or `down` (the supervisor
 * itself was killed).
 */
export function downState(sup: { status?: string; restarts?: number } | undefined): string {
  if (sup?.status === "crashed") return `crashed (gave up after ${sup.restarts ?? 0} restarts)`;
  if (sup === undefined || sup.status === "stopped") return "stopped";
  return "down (its supervisor is gone)";
}

/**
 * The local target: each release is a copy of the app's build in an immutable folder, run by a
 * supervisor process on a free loopback port; a router holds the app's stable port and switches
 * to the new release only once it is healthy, then the previous release is stopped.
 */
export class LocalProvider {
  readonly paths: LocalPaths;
  constructor(
    private readonly config: OpsConfig,
    private readonly env: OpsEnv,
    /** Registers interrupt cleanups (the context's `onInterrupt`). */
    private readonly onInterrupt: (fn: () => Promise<unknown>) => () => void = () => () => undefined,
  ) {
    this.paths = localPaths(env.stateDir, env.environment);
  }

  /** The stable loopback port of an app (`OPS_LOCAL_<APP>_PORT`, else its `localPort`; src/local/ports.ts). */
  publicPort(app: string): number {
    return localAppPort(this.config, this.env, app).port;
  }

  /** `http://127.0.0.1:<public app's port>`: where smoke checks go. */
  publicUrl(): string {
    return `http://${LOOPBACK}:${this.publicPort(this.config.publicApp)}`;
  }

  private appConfig(app: string): BuiltAppConfig {
    const cfg = this.config.apps[app];
    if (!cfg) throw new DeployError(`unknown app "${app}"`, { fix: `Use one of: ${Object.keys(this.config.apps).join(", ")}.` });
    return builtApp(app, cfg);
  }

  /** Whether the current release of `app` has a live supervisor. */
  isServing(app: string): boolean {
    const st = readAppState(this.paths, app);
    const cur = st.releases.find((r) => r.id === st.current);
    return cur?.supervisorPid !== undefined && isAlive(cur.supervisorPid);
  }

  currentRelease(app: string): string | null {
    return readAppState(this.paths, app).current;
  }

  /**
   * The release that serves `app` once the pending repairs are applied: the live one the router
   * sends its traffic to (a run killed after switching had not recorded it), else the recorded one.
   * For plans, which are made before the repairs run.
   */
  servingAfterRepairs(app: string): string | null {
    return this.routedRelease(app)?.releaseId ?? this.currentRelease(app);
  }

  /** Which artifacts are missing for `app` (paths relative to the repo). */
  missingArtifacts(app: string): string[] {
    const cfg = this.appConfig(app);
    return cfg.artifacts.map((a) => join(cfg.dir, a)).filter((p) => !existsSync(join(this.env.repoRoot, p)));
  }

  /** The argv a release of `app` runs (`node` is this Node). */
  releaseCommand(app: string): string[] {
    return this.appConfig(app).command.map((c, i) => (i === 0 && c === "node" ? process.execPath : c));
  }

  /** Names of the variables a release of `app` gets (its port, release id, links, declared secrets, localEnv). */
  releaseEnvKeys(app: string): string[] {
    const cfg = this.appConfig(app);
    return [
      ...new Set([
        ...Object.keys(minimalChildEnv(this.env.processEnv)),
        ...Object.keys(cfg.localEnv),
        cfg.portEnv,
        cfg.releaseEnv,
        ...Object.keys(cfg.links),
        ...cfg.secrets,
      ]),
    ].sort();
  }

  /**
   * Copies the build into a new, immutable release folder and records the release as `stopped`.
   * `from`: the folder holding the artifacts (a build snapshot); default the app's folder in the repo.
   * @throws {DeployError} when the build is missing or the release folder exists already.
   */
  createRelease(input: { app: string; releaseId: string; gitSha: string; runId: string; from?: string }): string {
    const cfg = this.appConfig(input.app);
    const from = input.from ?? join(this.env.repoRoot, cfg.dir);
    const missing = cfg.artifacts.filter((a) => !existsSync(join(from, a))).map((a) => (input.from ? join(from, a) : join(cfg.dir, a)));
    if (missing.length > 0) {
      throw new DeployError(`no build output for ${input.app}: ${missing.join(", ")} not found`, {
        where: cfg.dir,
        fix: "Build first: `pnpm turbo run build` (production-deploy does it for you).",
      });
    }
    const dir = this.paths.releaseDir(input.app, input.releaseId);
    if (existsSync(dir)) {
      throw new DeployError(`release ${input.releaseId} of ${input.app} already exists at ${dir}`, {
        fix: "Each run makes new releases; start a new run.",
      });
    }
    writingTo(dir, () => {
      try {
        mkdirSync(dir, { recursive: true });
        for (const a of cfg.artifacts) cpSync(join(from, a), join(dir, a), { recursive: true });
      } catch (err) {
        rmSync(dir, { recursive: true, force: true }); // no half-copied release a later run could start
        throw err;
      }
    });
    const release: LocalRelease = {
      id: input.releaseId,
      createdAt: new Date().toISOString(),
      gitSha: input.gitSha,
      runId: input.runId,
      status: "stopped",
    };
    writeJsonAtomic(join(dir, "release.json"), { app: input.app, ...release });
    const state = readAppState(this.paths, input.app);
    state.releases = [release, ...state.releases.filter((r) => r.id !== release.id)];
    writeAppState(this.paths, input.app, state);
    return dir;
  }

  /**
   * The release `to` of `app`, or the one a default rollback goes back to.
   * @throws {RollbackError} when there is none, or its folder was pruned.
   */
  rollbackRelease(app: string, to?: string): LocalRelease {
    const state = readAppState(this.paths, app);
    const target = rollbackTarget(state, to);
    if (!target) {
      throw new RollbackError(
        to
          ? `${app} has no release ${to} to roll back to`
          : `${app} has no earlier release to roll back to (current: ${state.current ?? "none"})`,
        {
          where: this.paths.appState(app),
          fix: `Known releases: ${state.releases.map((r) => `${r.id} (${r.status})`).join(", ") || "none"}.`,
        },
      );
    }
    if (!existsSync(this.paths.releaseDir(app, target.id))) {
      throw new RollbackError(`release ${target.id} of ${app} was pruned from ${this.paths.releaseDir(app, target.id)}`, {
        fix: "Deploy the wanted git revision again instead.",
      });
    }
    return target;
  }

  /**
   * Starts an existing release folder under a supervisor on a free loopback port. Until it is
   * routed (`switchTraffic`) or given up (`abandon`), an interrupt stops it, so nothing runs that
   * no state file knows of.
   */
  async startRelease(app: string, releaseId: string, secrets: Map<string, Secret>): Promise<StartedRelease> {
    const cfg = this.appConfig(app);
    const dir = this.paths.releaseDir(app, releaseId);
    const port = await freePort();
    const env: Record<string, string> = { ...minimalChildEnv(this.env.processEnv), ...cfg.localEnv };
    env[cfg.portEnv] = String(port);
    env[cfg.releaseEnv] = releaseId;
    // An app this target does not run (image-only) is not in this provider's config and has no address here.
    for (const [key, target] of Object.entries(cfg.links))
      if (this.config.apps[target]) env[key] = `${LOOPBACK}:${this.publicPort(target)}`;
    for (const [key, value] of secrets) env[key] = value.reveal();
    const supervisorState = join(dir, "supervisor.json");
    const logFile = join(dir, "release.log");
    const pid = spawnDetached("supervisor-main", [supervisorState, dir, "--", ...this.releaseCommand(app)], {
      env,
      logFile,
      cwd: dir,
    });
    // Where it listens, for the repair of a run killed before it recorded the switch.
    writeJsonAtomic(join(dir, "launch.json"), { supervisorPid: pid, port, startedAt: new Date().toISOString() });
    const forget = this.onInterrupt(() => this.stopRelease(pid, 5_000));
    return { app, releaseId, pid, port, logFile, forget };
  }

  /** Stops a started release that will not be routed. */
  async abandon(started: StartedRelease): Promise<void> {
    await this.stopRelease(started.pid, 10_000);
    started.forget();
  }

  /**
   * Waits until the started release is healthy.
   * @throws {DeployError} when it is not within the app's health timeout: it is stopped and marked
   * failed, and the previous release keeps serving.
   */
  async awaitHealthy(started: StartedRelease): Promise<void> {
    const cfg = this.appConfig(started.app);
    const health = await this.waitHealthy(
      started.app,
      cfg,
      `${LOOPBACK}:${started.port}`,
      started.releaseId,
      cfg.health.timeoutMs,
      started.pid,
    );
    if (health.ok) return;
    await this.abandon(started);
    const state = readAppState(this.paths, started.app);
    const failed = state.releases.find((r) => r.id === started.releaseId);
    if (failed && failed.id !== state.current) failed.status = "failed";
    writeAppState(this.paths, started.app, state);
    throw new DeployError(
      `${started.app} release ${started.releaseId} did not become healthy within ${cfg.health.timeoutMs} ms: ${health.detail}`,
      {
        where: started.logFile,
        fix:
          state.current === started.releaseId
            ? // `ops:local up` restarting the current release: there is nothing older that keeps serving.
              `${started.app} serves nothing now: its current release could not be started again. See the log, then run \`pnpm ops:local up\` again or go back with \`pnpm ops:rollback --app ${started.app}\`. Last lines of the release log:\n${tailFile(started.logFile, 15)}`
            : `The previous release (${state.current ?? "none"}) keeps serving. Last lines of the release log:\n${tailFile(started.logFile, 15)}`,
      },
    );
  }

  /** Routes the app's stable port to the started (healthy) release, then stops the previous release. */
  async switchTraffic(started: StartedRelease, via: ServedEntry["via"], onProgress?: (m: string) => void): Promise<AppRelease> {
    const { app, releaseId, pid, port } = started;
    // Why it is switched to, kept with the release: a run killed between the switch and writing the
    // state leaves it for the repair, so a killed rollback is recorded as a rollback.
    const launchFile = join(this.paths.releaseDir(app, releaseId), "launch.json");
    writeJsonAtomic(launchFile, { ...(readJson<Record<string, unknown>>(launchFile) ?? {}), switchingVia: via });
    try {
      await setRoute(
        this.paths,
        { name: app, listenHost: LOOPBACK, listenPort: this.publicPort(app), upstream: { host: LOOPBACK, port } },
        minimalChildEnv(this.env.processEnv),
      );
    } catch (err) {
      // Traffic never reached the new release: stop it so nothing runs that no state file knows of.
      await this.abandon(started);
      throw err;
    }
    started.forget();
    onProgress?.(`${app}: ${LOOPBACK}:${this.publicPort(app)} now routes to release ${releaseId}`);
    const state = readAppState(this.paths, app);
    const previous = state.current;
    const previousEntry = state.releases.find((r) => r.id === previous);
    if (previousEntry && previousEntry.supervisorPid !== undefined && previousEntry.supervisorPid !== pid) {
      // Also a restart of the same release (`ops:local up`): its old copy may still run without a supervisor.
      await this.stopRelease(previousEntry.supervisorPid, 20_000);
    }
    if (previousEntry && previous !== releaseId) {
      previousEntry.status = "stopped";
      delete previousEntry.port;
      delete previousEntry.supervisorPid;
      onProgress?.(`${app}: stopped previous release ${previous}`);
    }
    const entry = state.releases.find((r) => r.id === releaseId);
    if (entry) {
      Object.assign(entry, { status: "serving", port, supervisorPid: pid });
      delete entry.rolledBack;
    }
    if (via === "rollback" && previousEntry && previous !== releaseId) previousEntry.rolledBack = true;
    if (previous !== releaseId || !state.served?.length)
      state.served = [...(state.served ?? []), { release: releaseId, at: new Date().toISOString(), via }].slice(-50);
    state.current = releaseId;
    this.prune(app, state.releases);
    state.releases = state.releases.slice(0, KEEP_RELEASES);
    writeAppState(this.paths, app, state);
    return { app, previous, release: releaseId };
  }

  /** The health wait of an app, for plans. */
  healthDescription(app: string, releaseId: string): string {
    const cfg = this.appConfig(app);
    return `wait up to ${cfg.health.timeoutMs} ms for ${cfg.health.kind === "grpc" ? "gRPC health SERVING" : `${cfg.health.path} to report release ${releaseId}`}`;
  }

  healthTimeoutMs(app: string): number {
    return this.appConfig(app).health.timeoutMs;
  }

  private prune(app: string, releases: LocalRelease[]): void {
    for (const old of releases.slice(KEEP_RELEASES)) rmSync(this.paths.releaseDir(app, old.id), { recursive: true, force: true });
  }

  private async waitHealthy(app: string, cfg: AppConfig, address: string, releaseId: string, timeoutMs: number, supervisorPid: number) {
    const protoRoot = join(this.env.repoRoot, "proto");
    return waitFor(async () => {
      if (!isAlive(supervisorPid)) return { ok: false, detail: "the process exited (supervisor gave up)" };
      if (cfg.health.kind === "grpc") {
        const h = await checkGrpcHealth(address, { protoRoot, service: cfg.health.service, timeoutMs: 1500 });
        return { ok: h.status === "SERVING", detail: `gRPC health ${h.status}${h.reason ? ` (${h.reason})` : ""}` };
      }
      const res = await httpGet(`http://${address}${cfg.health.path}`, 3000);
      if (res.status !== 200)
        return {
          ok: false,
          detail: res.status === 0 ? `GET ${cfg.health.path}: ${res.error}` : `GET ${cfg.health.path} answered ${res.status}`,
        };
      let body: HealthzBody = {};
      try {
        body = JSON.parse(res.body) as HealthzBody;
      } catch {
        return { ok: false, detail: `GET ${cfg.health.path} did not answer JSON` };
      }
      const seen = healthzApp(body, app)?.release;
      return { ok: seen === releaseId, detail: `GET ${cfg.health.path} reports release ${seen ?? "(none)"}, expected ${releaseId}` };
    }, timeoutMs);
  }

  /** What runs where: one row per app, with the pids of the current release (supervisor, app). */
  async status(): Promise<
    {
      app: string;
      release: string | null;
      state: string;
      running: boolean;
      pids: string;
      address: string;
      upstream: string;
      health: string;
    }[]
  > {
    const routes = readRoutes(this.paths).routes;
    const protoRoot = join(this.env.repoRoot, "proto");
    const rows = [];
    for (const app of this.config.deployOrder) {
      const cfg = this.appConfig(app);
      const st = readAppState(this.paths, app);
      const cur = st.releases.find((r) => r.id === st.current);
      const sup = cur
        ? readJson<{ status: string; restarts: number; childPid?: number | null }>(
            join(this.paths.releaseDir(app, cur.id), "supervisor.json"),
          )
        : undefined;
      const supervised = cur?.supervisorPid !== undefined && isAlive(cur.supervisorPid);
      // The app a killed supervisor left behind still answers, unsupervised.
      const orphans = cur && !supervised ? groupMembers(cur.supervisorPid ?? 0, [this.paths.root]) : [];
      const running = supervised || orphans.length > 0;
      const route = routes.find((r) => r.name === app);
      // The port the router really listens on (set by the deploy), not this shell's OPS_LOCAL_*_PORT.
      const address = `${LOOPBACK}:${route?.listenPort ?? this.publicPort(app)}`;
      let health = "-";
      if (running) {
        if (cfg.health.kind === "grpc") health = (await checkGrpcHealth(address, { protoRoot, service: cfg.health.service })).status;
        else {
          const r = await httpGet(`http://${address}${cfg.health.path}`, 2000);
          health = r.status === 0 ? `down (${r.error})` : `HTTP ${r.status}`;
        }
      }
      const appPid = sup?.childPid && isAlive(sup.childPid) ? sup.childPid : undefined;
      rows.push({
        app,
        release: st.current,
        state: supervised
          ? `${sup?.status ?? "running"}${sup?.restarts ? ` (${sup.restarts} restarts)` : ""}`
          : orphans.length > 0
            ? "unsupervised (its supervisor is gone; the app still runs)"
            : !st.current
              ? "never deployed"
              : cur?.status === "stopped"
                ? "stopped"
                : downState(sup),
        running: supervised,
        pids: supervised
          ? `${cur!.supervisorPid}${appPid ? `/${appPid}` : ""}`
          : orphans.length > 0
            ? `-/${orphans.map((o) => o.pid).join(",")}`
            : "-",
        address,
        upstream: route?.upstream ? `${route.upstream.host}:${route.upstream.port}` : "-",
        health,
      });
    }
    return rows;
  }

  /**
   * Why no process can answer for some app, one reason per app ([] when every app's route leads
   * to a live process, a supervisor that is restarting its app included).
   */
  notServing(): string[] {
    if (routerPid(this.paths) === undefined) return [`the local router is not running, so nothing listens on ${this.publicUrl()}`];
    return this.config.deployOrder.flatMap((app) => {
      if (this.routedRelease(app)) return [];
      const current = readAppState(this.paths, app).current;
      return [`no process serves ${app}${current ? ` (release ${current} does not run)` : " (never deployed)"}`];
    });
  }

  /** Marks a release as failed (its run's smoke checks failed): never a default rollback target again. */
  markFailed(app: string, releaseId: string): void {
    const state = readAppState(this.paths, app);
    const entry = state.releases.find((r) => r.id === releaseId);
    if (!entry) return;
    entry.failedSmoke = true;
    writeAppState(this.paths, app, state);
  }

  /**
   * Releases of `app` with live processes, from each release folder's supervisor.json and
   * launch.json (not only those the app state knows): `supervised` when the supervisor runs,
   * otherwise the app its killed supervisor left running (found by the supervisor's process group).
   */
  liveReleases(app: string): LiveRelease[] {
    const dir = join(this.paths.appDir(app), "releases");
    if (!existsSync(dir)) return [];
    return readdirSync(dir).flatMap((id): LiveRelease[] => {
      const sup = readJson<{ supervisorPid?: number }>(join(dir, id, "supervisor.json"));
      const launch = readJson<{ supervisorPid?: number; port?: number }>(join(dir, id, "launch.json"));
      const pid = sup?.supervisorPid ?? launch?.supervisorPid;
      if (!pid) return [];
      if (isAlive(pid)) return [{ releaseId: id, pid, port: launch?.port, supervised: true }];
      const orphans = groupMembers(pid, [this.paths.root]);
      return orphans.length ? [{ releaseId: id, pid, port: launch?.port, supervised: false, appPids: orphans.map((o) => o.pid) }] : [];
    });
  }

  /** The live release the router sends `app`'s traffic to, if any (the truth when the state file is behind). */
  routedRelease(app: string): LiveRelease | undefined {
    if (routerPid(this.paths) === undefined) return undefined;
    const port = readRoutes(this.paths).routes.find((r) => r.name === app)?.upstream?.port;
    return port === undefined ? undefined : this.liveReleases(app).find((l) => l.port === port);
  }

  /**
   * Stops a release's supervisor (which stops its app), then whatever is left of its process
   * group (the app of a supervisor that was killed with -9).
   */
  async stopRelease(supervisorPid: number | undefined, graceMs: number): Promise<"stopped" | "killed" | "not-running"> {
    const how = await stopProcess(supervisorPid, graceMs);
    const left = await stopGroup(supervisorPid, [this.paths.root], graceMs);
    return how === "not-running" && left.length > 0 ? "stopped" : how;
  }

  /** Processes under `apps/<app>/` that belong to no release folder's supervisor group (their record was lost). */
  private strays(app: string): EnvProcess[] {
    const known = new Set(this.liveReleases(app).map((l) => l.pid));
    return processesUnder([this.paths.appDir(app)]).filter((p) => !known.has(p.pgid));
  }

  /**
   * What a killed run left behind, as repairs (each checks again when applied, so a plan made a
   * moment earlier cannot stop what has since become current): a release the router serves that
   * the state does not record as current is recorded; a release that runs but serves nothing is
   * stopped, and so is any process under the app's folder that no release folder records.
   */
  repairs(): LocalRepair[] {
    const out: LocalRepair[] = [];
    const router = routerFilesDamaged(this.paths);
    if (router) {
      // Everything below reads the routes: repaired first, and the rest planned again afterwards.
      return [
        { app: "router", description: `rewrite the router's files from the router: ${router}`, apply: () => repairRouterFiles(this.paths) },
      ];
    }
    for (const app of this.config.deployOrder) {
      const st = readAppState(this.paths, app);
      const routed = this.routedRelease(app);
      const recorded = st.releases.find((r) => r.id === st.current);
      if (routed && (st.current !== routed.releaseId || recorded?.supervisorPid !== routed.pid)) {
        const why = appStateWasDamaged(this.paths, app) ? "its state file was damaged" : "a run was killed after switching";
        out.push({
          app,
          description:
            st.current === routed.releaseId
              ? `record that ${app} release ${routed.releaseId} serves under supervisor pid ${routed.pid}: the state records pid ${recorded?.supervisorPid ?? "none"} (${why})`
              : `record that ${app} release ${routed.releaseId} serves: the router sends its traffic there, but the state says ${st.current ?? "none"} (${why})`,
          apply: async () => this.recordServing(app, routed),
        });
      }
      const keep =
        routed?.releaseId ?? (recorded?.supervisorPid !== undefined && isAlive(recorded.supervisorPid) ? recorded.id : undefined);
      for (const l of this.liveReleases(app).filter((x) => x.releaseId !== keep)) {
        // The current release's app whose supervisor died keeps serving until `up` or the next deploy replaces it.
        if (!l.supervised && l.releaseId === st.current) continue;
        out.push({
          app,
          description: l.supervised
            ? `stop ${app} release ${l.releaseId} (supervisor pid ${l.pid}): it runs but serves nothing (${
                // Switched away from (the router serves another; it served before), an unrecorded copy of the current one, or never switched to.
                routed && (l.releaseId === st.current || st.served?.some((s) => s.release === l.releaseId))
                  ? "a run switched traffic away from it and was killed before stopping it"
                  : l.releaseId === st.current
                    ? "a copy of the current release that no state records: a run was killed before switching to it"
                    : "a run was killed before switching to it"
              })`
            : `stop ${app} release ${l.releaseId} (app pid ${l.appPids?.join(", ")}): its supervisor is gone and it serves nothing`,
          apply: async () => {
            const now = readAppState(this.paths, app);
            const recordedPid = now.releases.find((r) => r.id === now.current)?.supervisorPid;
            // A supervisor of the current release that the state does not record (a killed `ops:local up`
            // restarting it) serves nothing either; only the recorded or routed one is kept.
            if (this.routedRelease(app)?.pid === l.pid || (now.current === l.releaseId && recordedPid === l.pid)) return;
            await this.stopRelease(l.pid, 10_000);
          },
        });
      }
      const strays = this.strays(app);
      if (strays.length > 0) {
        out.push({
          app,
          description: `stop ${strays.length} ${app} process${strays.length > 1 ? "es" : ""} no release records (pid ${strays.map((p) => p.pid).join(", ")})`,
          apply: async () => {
            await terminate(this.strays(app), 10_000);
          },
        });
      }
    }
    return out;
  }

  private recordServing(app: string, routed: { releaseId: string; pid: number; port: number | undefined }): void {
    const state = readAppState(this.paths, app);
    // What the killed run was doing when it switched (switchTraffic notes it first); older folders: a deploy.
    const noted = readJson<{ switchingVia?: unknown }>(join(this.paths.releaseDir(app, routed.releaseId), "launch.json"))?.switchingVia;
    const via: ServedEntry["via"] = noted === "rollback" || noted === "restart" ? noted : "deploy";
    const left = state.releases.find((r) => r.id === state.current && r.id !== routed.releaseId);
    if (via === "rollback" && left) left.rolledBack = true;
    for (const r of state.releases) {
      if (r.id !== routed.releaseId && r.status === "serving") {
        r.status = "stopped";
        delete r.supervisorPid;
        delete r.port;
      }
    }
    let entry = state.releases.find((r) => r.id === routed.releaseId);
    if (!entry) {
      const meta = readJson<Partial<LocalRelease>>(join(this.paths.releaseDir(app, routed.releaseId), "release.json")) ?? {};
      entry = {
        id: routed.releaseId,
        createdAt: meta.createdAt ?? new Date().toISOString(),
        gitSha: meta.gitSha ?? "unknown",
        runId: meta.runId ?? routed.releaseId,
        status: "serving",
      };
      state.releases = [entry, ...state.releases];
    }
    Object.assign(entry, { status: "serving", supervisorPid: routed.pid, ...(routed.port !== undefined ? { port: routed.port } : {}) });
    if (state.current !== routed.releaseId)
      state.served = [...(state.served ?? []), { release: routed.releaseId, at: new Date().toISOString(), via }].slice(-50);
    state.current = routed.releaseId;
    writeAppState(this.paths, app, state);
  }

  /** Stops every running release of this environment, those the state knows and those it does not (the router and Postgres are stopped by the caller). */
  async stopApps(): Promise<string[]> {
    const stopped: string[] = [];
    for (const app of [...this.config.deployOrder].reverse()) {
      for (const l of this.liveReleases(app)) {
        if ((await this.stopRelease(l.pid, 20_000)) !== "not-running") stopped.push(`${app} ${l.releaseId}`);
      }
      const st = readAppState(this.paths, app);
      for (const r of st.releases) {
        if (r.supervisorPid !== undefined && (await this.stopRelease(r.supervisorPid, 20_000)) !== "not-running")
          stopped.push(`${app} ${r.id}`);
        if (r.status === "serving") r.status = "stopped";
        delete r.supervisorPid;
        delete r.port;
      }
      // An app never deployed here has no state to update: `down` leaves no empty file behind.
      if (st.releases.length > 0 || existsSync(this.paths.appState(app))) writeAppState(this.paths, app, st);
      const strays = this.strays(app);
      if ((await terminate(strays, 10_000)) > 0)
        stopped.push(`${app} (${strays.length} unrecorded process${strays.length > 1 ? "es" : ""})`);
    }
    return stopped;
  }
}
