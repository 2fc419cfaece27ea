import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AppConfig, OpsConfig } from "../config/schema.ts";
import type { OpsEnv } from "../env.ts";
import { DeployError, RollbackError } from "../errors.ts";
import type { Secret } from "../secrets/secret.ts";
import { KEEP_RELEASES, readAppState, rollbackTarget, writeAppState, type LocalRelease } from "./app-state.ts";
import { minimalChildEnv } from "./child-env.ts";
import { checkGrpcHealth, httpGet, waitFor, type HealthzBody } from "./health.ts";
import { localPaths, type LocalPaths } from "./paths.ts";
import { freePort, isAlive, readJson, spawnDetached, stopProcess, tailFile } from "./process-utils.ts";
import { readRoutes, setRoute } from "./router.ts";
import { onInterrupt } from "../cli/run-ops.ts";

export interface LocalDeployInput {
  app: string;
  releaseId: string;
  gitSha: string;
  runId: string;
  /** The app's secrets (only its declared keys). */
  secrets: Map<string, Secret>;
  onProgress?: (message: string) => void;
}

export interface AppRelease {
  app: string;
  previous: string | null;
  release: string;
}

const LOOPBACK = "127.0.0.1";

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
  ) {
    this.paths = localPaths(env.stateDir, env.environment);
  }

  /** The stable loopback port of an app. */
  publicPort(app: string): number {
    if (app === "client") return this.env.localPorts.client;
    if (app === "backend") return this.env.localPorts.backend;
    const idx = this.config.deployOrder.indexOf(app);
    return this.env.localPorts.client + 100 + idx;
  }

  /** `http://127.0.0.1:<client port>`: where smoke checks go. */
  publicUrl(): string {
    return `http://${LOOPBACK}:${this.publicPort(this.config.publicApp)}`;
  }

  private appConfig(app: string): AppConfig {
    const cfg = this.config.apps[app];
    if (!cfg) throw new DeployError(`unknown app "${app}"`, { fix: `Use one of: ${Object.keys(this.config.apps).join(", ")}.` });
    return cfg;
  }

  currentRelease(app: string): string | null {
    return readAppState(this.paths, app).current;
  }

  /** Which artifacts are missing for `app` (paths relative to the repo). */
  missingArtifacts(app: string): string[] {
    const cfg = this.appConfig(app);
    return cfg.artifacts.map((a) => join(cfg.dir, a)).filter((p) => !existsSync(join(this.env.repoRoot, p)));
  }

  /**
   * Copies the build into a new release folder, starts it, waits for health, switches the
   * router, stops the previous release.
   * @throws {DeployError} when the build is missing or the release does not become healthy in
   * time; the previous release then keeps serving and nothing else changed.
   */
  async deploy(input: LocalDeployInput): Promise<AppRelease> {
    const cfg = this.appConfig(input.app);
    const missing = this.missingArtifacts(input.app);
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
    mkdirSync(dir, { recursive: true });
    for (const a of cfg.artifacts) cpSync(join(this.env.repoRoot, cfg.dir, a), join(dir, a), { recursive: true });
    const release: LocalRelease = {
      id: input.releaseId,
      createdAt: new Date().toISOString(),
      gitSha: input.gitSha,
      runId: input.runId,
      status: "stopped",
    };
    writeFileSync(join(dir, "release.json"), `${JSON.stringify({ app: input.app, ...release }, null, 2)}\n`);
    const state = readAppState(this.paths, input.app);
    state.releases = [release, ...state.releases.filter((r) => r.id !== release.id)];
    writeAppState(this.paths, input.app, state);
    input.onProgress?.(`${input.app}: release ${release.id} copied to ${dir}`);
    return this.activate(input.app, release.id, input.secrets, input.onProgress);
  }

  /**
   * Rolls `app` back to its previous release (or `to`), with today's secrets, and returns what changed.
   * @throws {RollbackError} when there is no earlier release to go back to, or it does not become healthy.
   */
  async rollback(app: string, secrets: Map<string, Secret>, opts: { to?: string; onProgress?: (m: string) => void } = {}): Promise<AppRelease> {
    const state = readAppState(this.paths, app);
    const target = rollbackTarget(state, opts.to);
    if (!target) {
      throw new RollbackError(
        opts.to ? `${app} has no release ${opts.to} to roll back to` : `${app} has no earlier release to roll back to (current: ${state.current ?? "none"})`,
        { where: this.paths.appState(app), fix: `Known releases: ${state.releases.map((r) => `${r.id} (${r.status})`).join(", ") || "none"}.` },
      );
    }
    if (!existsSync(this.paths.releaseDir(app, target.id))) {
      throw new RollbackError(`release ${target.id} of ${app} was pruned from ${this.paths.releaseDir(app, target.id)}`, {
        fix: "Deploy the wanted git revision again instead.",
      });
    }
    try {
      return await this.activate(app, target.id, secrets, opts.onProgress);
    } catch (err) {
      if (err instanceof DeployError) throw new RollbackError(err.message, { where: err.where, fix: err.fix });
      throw err;
    }
  }

  private async activate(app: string, releaseId: string, secrets: Map<string, Secret>, onProgress?: (m: string) => void): Promise<AppRelease> {
    const cfg = this.appConfig(app);
    const dir = this.paths.releaseDir(app, releaseId);
    const port = await freePort();
    const env: Record<string, string> = { ...minimalChildEnv(this.env.processEnv), ...cfg.localEnv };
    env[cfg.portEnv] = String(port);
    env[cfg.releaseEnv] = releaseId;
    for (const [key, target] of Object.entries(cfg.links)) env[key] = `${LOOPBACK}:${this.publicPort(target)}`;
    for (const [key, value] of secrets) env[key] = value.reveal();
    const command = cfg.command.map((c, i) => (i === 0 && c === "node" ? process.execPath : c));
    const supervisorState = join(dir, "supervisor.json");
    const logFile = join(dir, "release.log");
    const pid = spawnDetached(new URL("./supervisor-main.ts", import.meta.url), [supervisorState, dir, "--", ...command], { env, logFile, cwd: dir });
    onProgress?.(`${app}: started release ${releaseId} on ${LOOPBACK}:${port} (supervisor pid ${pid}); waiting up to ${cfg.health.timeoutMs} ms for health`);
    // Interrupted before traffic moved: stop the new release so nothing runs that no state file knows of.
    const forget = onInterrupt(() => stopProcess(pid, 5_000));
    try {
      return await this.switchTo(app, releaseId, pid, port, logFile, onProgress);
    } finally {
      forget();
    }
  }

  /** Waits for the new release's health, routes traffic to it, stops the previous release. */
  private async switchTo(app: string, releaseId: string, pid: number, port: number, logFile: string, onProgress?: (m: string) => void): Promise<AppRelease> {
    const cfg = this.appConfig(app);
    const health = await this.waitHealthy(cfg, `${LOOPBACK}:${port}`, releaseId, cfg.health.timeoutMs, pid);
    const state = readAppState(this.paths, app);
    if (!health.ok) {
      await stopProcess(pid, 10_000);
      const failed = state.releases.find((r) => r.id === releaseId);
      if (failed && failed.id !== state.current) failed.status = "failed";
      writeAppState(this.paths, app, state);
      throw new DeployError(`${app} release ${releaseId} did not become healthy within ${cfg.health.timeoutMs} ms: ${health.detail}`, {
        where: logFile,
        fix: `The previous release (${state.current ?? "none"}) keeps serving. Last lines of the release log:\n${tailFile(logFile, 15)}`,
      });
    }
    try {
      await setRoute(this.paths, { name: app, listenHost: LOOPBACK, listenPort: this.publicPort(app), upstream: { host: LOOPBACK, port } }, minimalChildEnv(this.env.processEnv));
    } catch (err) {
      // Traffic never reached the new release: stop it so nothing runs that no state file knows of.
      await stopProcess(pid, 10_000);
      throw err;
    }
    onProgress?.(`${app}: ${LOOPBACK}:${this.publicPort(app)} now routes to release ${releaseId}`);

    const previous = state.current;
    const previousEntry = state.releases.find((r) => r.id === previous);
    if (previousEntry && previous !== releaseId) {
      await stopProcess(previousEntry.supervisorPid, 20_000);
      previousEntry.status = "stopped";
      delete previousEntry.port;
      delete previousEntry.supervisorPid;
      onProgress?.(`${app}: stopped previous release ${previous}`);
    }
    const entry = state.releases.find((r) => r.id === releaseId);
    if (entry) Object.assign(entry, { status: "serving", port, supervisorPid: pid });
    state.current = releaseId;
    this.prune(app, state.releases);
    state.releases = state.releases.slice(0, KEEP_RELEASES);
    writeAppState(this.paths, app, state);
    return { app, previous, release: releaseId };
  }

  private prune(app: string, releases: LocalRelease[]): void {
    for (const old of releases.slice(KEEP_RELEASES)) rmSync(this.paths.releaseDir(app, old.id), { recursive: true, force: true });
  }

  private async waitHealthy(cfg: AppConfig, address: string, releaseId: string, timeoutMs: number, supervisorPid: number) {
    const protoRoot = join(this.env.repoRoot, "proto");
    return waitFor(async () => {
      if (!isAlive(supervisorPid)) return { ok: false, detail: "the process exited (supervisor gave up)" };
      if (cfg.health.kind === "grpc") {
        const h = await checkGrpcHealth(address, { protoRoot, service: cfg.health.service, timeoutMs: 1500 });
        return { ok: h.status === "SERVING", detail: `gRPC health ${h.status}${h.reason ? ` (${h.reason})` : ""}` };
      }
      const res = await httpGet(`http://${address}${cfg.health.path}`, 3000);
      if (res.status !== 200) return { ok: false, detail: res.status === 0 ? `GET ${cfg.health.path}: ${res.error}` : `GET ${cfg.health.path} answered ${res.status}` };
      let body: Partial<HealthzBody> = {};
      try {
        body = JSON.parse(res.body) as HealthzBody;
      } catch {
        return { ok: false, detail: `GET ${cfg.health.path} did not answer JSON` };
      }
      const seen = body.client?.release;
      return { ok: seen === releaseId, detail: `GET ${cfg.health.path} reports release ${seen ?? "(none)"}, expected ${releaseId}` };
    }, timeoutMs);
  }

  /** What runs where: one row per app. */
  async status(): Promise<{ app: string; release: string | null; state: string; address: string; upstream: string; health: string }[]> {
    const routes = readRoutes(this.paths).routes;
    const protoRoot = join(this.env.repoRoot, "proto");
    const rows = [];
    for (const app of this.config.deployOrder) {
      const cfg = this.appConfig(app);
      const st = readAppState(this.paths, app);
      const cur = st.releases.find((r) => r.id === st.current);
      const sup = cur ? readJson<{ status: string; restarts: number }>(join(this.paths.releaseDir(app, cur.id), "supervisor.json")) : undefined;
      const running = cur?.supervisorPid !== undefined && isAlive(cur.supervisorPid);
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
      rows.push({
        app,
        release: st.current,
        state: running ? `${sup?.status ?? "running"}${sup?.restarts ? ` (${sup.restarts} restarts)` : ""}` : st.current ? "stopped" : "never deployed",
        address,
        upstream: route?.upstream ? `${route.upstream.host}:${route.upstream.port}` : "-",
        health,
      });
    }
    return rows;
  }

  /** Marks a release as failed (its run's smoke checks failed): never a default rollback target again. */
  markFailed(app: string, releaseId: string): void {
    const state = readAppState(this.paths, app);
    const entry = state.releases.find((r) => r.id === releaseId);
    if (!entry) return;
    entry.failedSmoke = true;
    writeAppState(this.paths, app, state);
  }

  /** Stops every running release of this environment (the router and Postgres are stopped by the caller). */
  async stopApps(): Promise<string[]> {
    const stopped: string[] = [];
    for (const app of [...this.config.deployOrder].reverse()) {
      const st = readAppState(this.paths, app);
      for (const r of st.releases) {
        if (r.supervisorPid !== undefined && (await stopProcess(r.supervisorPid, 20_000)) !== "not-running") stopped.push(`${app} ${r.id}`);
        if (r.status === "serving") r.status = "stopped";
        delete r.supervisorPid;
        delete r.port;
      }
      writeAppState(this.paths, app, st);
    }
    return stopped;
  }
}
