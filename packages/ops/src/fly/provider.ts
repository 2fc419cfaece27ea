import type { OpsConfig } from "../config/schema.ts";
import { DeployError, RollbackError } from "../errors.ts";
import { flyDeploy, flyIpsList, flyReleases, flySecretsDeploy, flyStatus } from "../commands/fly.ts";
import type { Cmd } from "../runner/types.ts";
import type { FlyAppsEnv } from "./apps-env.ts";
import { findEmittedRelease, type Flyctl } from "./flyctl.ts";
import { currentRelease, newestFirst, releaseIdOfImage, type FlyRelease, type FlyStatus } from "./releases.ts";
import { decideFlyRollback, type FlyRollbackDecision } from "./rollback-plan.ts";

/** An IP as `flyctl ips list --json` prints it (fly-go `types.go` `IPAddress`; flyctl `internal/command/ips/list.go`). */
interface FlyIp {
  Address: string;
  Type: string;
}
const PUBLIC_IP_TYPES = new Set(["v4", "shared_v4", "v6"]);

export interface FlyAppRelease {
  app: string;
  flyApp: string;
  /** What ran before: release version and image, or null on a first deploy. */
  previous: { version: number; imageRef: string; release: string | null } | null;
  release: string;
  version: number;
  imageRef: string;
}

/**
 * The fly target: `flyctl deploy` per app with its fly.toml and a remote build, the run id as
 * image label and RELEASE_ID, the release captured before (for rollback) and after
 * (`FLY_EMIT_RELEASE_JSON`), and internal apps checked for public IPs.
 */
export class FlyProvider {
  constructor(
    private readonly config: OpsConfig,
    readonly appsEnv: FlyAppsEnv,
    private readonly flyctl: Flyctl,
    private readonly progress: (message: string) => void = () => {},
  ) {}

  flyApp(app: string): string {
    return this.appsEnv.appNames[app]!;
  }

  async releases(app: string): Promise<FlyRelease[]> {
    return newestFirst(await this.flyctl.json<FlyRelease[]>(flyReleases(this.flyApp(app)), `listing releases of ${this.flyApp(app)}`));
  }

  async status(app: string): Promise<FlyStatus> {
    return this.flyctl.json<FlyStatus>(flyStatus(this.flyApp(app)), `reading the status of ${this.flyApp(app)}`);
  }

  private linkEnv(app: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, target] of Object.entries(this.config.apps[app]!.links)) {
      const port = this.config.apps[target]?.fly?.port;
      out[key] = `${this.flyApp(target)}.internal${port ? `:${port}` : ""}`;
    }
    return out;
  }

  /**
   * The `fly deploy` of one app for release `releaseId`: a remote build tagged with the release id
   * (an image-only app: `--image <its pinned ref>`, no build), `RELEASE_ID` and the link addresses
   * as `-e` values, `FLY_EMIT_RELEASE_JSON=1` so the new release is printed as JSON (flyctl deploy
   * docs: `-i/--image` deploys a prebuilt image and skips the build).
   */
  deployCmd(app: string, releaseId: string): Cmd {
    const cfg = this.config.apps[app]!;
    const cmd = flyDeploy({
      app: this.flyApp(app),
      config: cfg.fly!.config,
      strategy: this.appsEnv.strategy,
      waitTimeout: this.appsEnv.waitTimeout,
      ...(cfg.image !== undefined ? { image: cfg.image } : { imageLabel: releaseId }),
      noPublicIps: !cfg.fly!.public,
      env: { RELEASE_ID: releaseId, ...this.linkEnv(app) },
    });
    return { ...cmd, env: { FLY_EMIT_RELEASE_JSON: "1" } };
  }

  /**
   * Runs a deploy command built by `deployCmd` and returns what changed; `before` is the release
   * that served until now (read while planning).
   * @throws {DeployError} when flyctl fails (health-check timeout, release command…): Fly may have
   * updated some machines already (rolling), which the message says.
   */
  async runDeploy(app: string, releaseId: string, cmd: Cmd, before: FlyRelease | undefined): Promise<FlyAppRelease> {
    const flyApp = this.flyApp(app);
    const image = this.config.apps[app]!.image;
    this.progress(
      `${app}: ${flyApp} runs v${before?.Version ?? "-"} (${before?.ImageRef ?? "never deployed"}); deploying ${image !== undefined ? `${image} in run ${releaseId}` : `release ${releaseId}`}`,
    );
    let stdout: string;
    try {
      stdout = (await this.flyctl.run(cmd, `fly deploy of ${flyApp}`)).stdout;
    } catch (err) {
      const e = err as DeployError;
      throw new DeployError(`${e.message}`, {
        where: flyApp,
        fix: `Fly keeps machines it already updated on the new image (rolling strategy). The previous release was v${before?.Version ?? "-"} (${before?.ImageRef ?? "none"}); \`pnpm ops:rollback --app ${app}\` converges every machine back to it.`,
      });
    }
    const emitted = findEmittedRelease(stdout);
    let version = emitted?.version;
    let imageRef = emitted?.image_ref;
    if (version === undefined || imageRef === undefined) {
      const latest = currentRelease(await this.releases(app));
      if (!latest)
        throw new DeployError(`fly deploy of ${flyApp} exited 0 but no complete release is listed`, {
          where: flyApp,
          fix: `Check \`fly releases -a ${flyApp}\`.`,
        });
      version = latest.Version;
      imageRef = latest.ImageRef;
    }
    this.progress(`${app}: ${flyApp} v${version} runs ${imageRef}`);
    return {
      app,
      flyApp,
      previous: before ? { version: before.Version, imageRef: before.ImageRef, release: releaseIdOfImage(before.ImageRef) ?? null } : null,
      // An image-only app's image carries no run id: its releases are known by Fly's version, as rollback planning names them.
      release: this.config.apps[app]!.image !== undefined ? `v${version}` : releaseId,
      version,
      imageRef,
    };
  }

  /** Whether `app` is internal (no public service): its IPs are checked after each deploy. */
  isInternal(app: string): boolean {
    return !this.config.apps[app]!.fly!.public;
  }

  ipsCmd(app: string): Cmd {
    return flyIpsList(this.flyApp(app));
  }

  /**
   * `flyctl ips list --json` must show no public address for an internal app (C-22).
   * @throws {DeployError} listing the public addresses and how to release them.
   */
  async assertNoPublicIps(app: string, cmd: Cmd = this.ipsCmd(app)): Promise<void> {
    const flyApp = this.flyApp(app);
    const ips = await this.flyctl.json<FlyIp[]>(cmd, `listing IPs of ${flyApp}`);
    const publicIps = ips.filter((ip) => PUBLIC_IP_TYPES.has(ip.Type));
    if (publicIps.length > 0) {
      throw new DeployError(
        `${flyApp} must be internal but has public IPs: ${publicIps.map((ip) => `${ip.Address} (${ip.Type})`).join(", ")}`,
        {
          where: flyApp,
          fix: `Release them: ${publicIps.map((ip) => `fly ips release ${ip.Address} -a ${flyApp}`).join("; ")}; and keep [http_service]/[[services]] out of ${this.config.apps[app]!.fly!.config}.`,
        },
      );
    }
  }

  /** `fly secrets deploy -a <app>`: applies staged secrets with a restart-only deploy. */
  secretsDeployCmd(app: string): Cmd {
    return flySecretsDeploy(this.flyApp(app));
  }

  /** Applies staged secrets of an app that is not deployed in this run (C-09). */
  async deployStagedSecrets(app: string, cmd: Cmd = this.secretsDeployCmd(app)): Promise<void> {
    await this.flyctl.run(cmd, `fly secrets deploy of ${this.flyApp(app)}`);
  }

  /**
   * Which release a rollback would go to, from Fly's releases, every machine's image and the
   * releases our history says to avoid (C-25; see `decideFlyRollback`).
   */
  async planRollback(
    app: string,
    avoid: ReadonlyMap<string, string>,
    to?: string,
  ): Promise<FlyRollbackDecision & { app: string; flyApp: string; releases: FlyRelease[] }> {
    // One after the other: the same reads in the same order on every run (dry run and apply alike).
    const releases = await this.releases(app);
    const status = await this.status(app).catch(() => undefined);
    const decision = decideFlyRollback({ releases, machines: status?.Machines ?? [], avoid }, to);
    return { app, flyApp: this.flyApp(app), releases, ...decision };
  }

  /** The release id a rollback to `target` sets as RELEASE_ID: the run id in its image tag, else `v<its version>`. */
  rollbackReleaseId(target: FlyRelease): string {
    return releaseIdOfImage(target.ImageRef) ?? `v${target.Version}`;
  }

  /** `fly deploy --image <ref> --skip-release-command`: a new, higher release with an earlier image, today's fly.toml and secrets. */
  rollbackCmd(app: string, target: FlyRelease): Cmd {
    const cfg = this.config.apps[app]!;
    const cmd = flyDeploy({
      app: this.flyApp(app),
      config: cfg.fly!.config,
      strategy: this.appsEnv.strategy,
      waitTimeout: this.appsEnv.waitTimeout,
      image: target.ImageRef,
      skipReleaseCommand: true,
      noPublicIps: !cfg.fly!.public,
      env: { RELEASE_ID: this.rollbackReleaseId(target), ...this.linkEnv(app) },
    });
    return { ...cmd, env: { FLY_EMIT_RELEASE_JSON: "1" } };
  }

  /**
   * Runs a rollback command built by `rollbackCmd`; `before` is what served until now.
   * @throws {RollbackError} when flyctl fails.
   */
  async runRollback(app: string, target: FlyRelease, cmd: Cmd, before: FlyRelease | undefined): Promise<FlyAppRelease> {
    const flyApp = this.flyApp(app);
    let stdout: string;
    try {
      stdout = (await this.flyctl.run(cmd, `rollback of ${flyApp} to v${target.Version}`)).stdout;
    } catch (err) {
      throw new RollbackError((err as Error).message, {
        where: flyApp,
        fix: `Check \`fly status -a ${flyApp}\`; try another target with --to vN.`,
      });
    }
    const emitted = findEmittedRelease(stdout);
    return {
      app,
      flyApp,
      previous: before ? { version: before.Version, imageRef: before.ImageRef, release: releaseIdOfImage(before.ImageRef) ?? null } : null,
      release: this.rollbackReleaseId(target),
      version: emitted?.version ?? (before?.Version ?? 0) + 1,
      imageRef: target.ImageRef,
    };
  }
}
