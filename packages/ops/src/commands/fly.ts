import type { Cmd } from "../runner/types.ts";

/**
 * Pure argv builders for flyctl (flyctl docs: https://fly.io/docs/flyctl/; source: superfly/flyctl
 * `internal/command/`). Nothing here runs anything; the runner does, with `FLY_API_TOKEN` only in the child's environment and secret values only on stdin.
 */
const fly = (args: string[], extra: Partial<Cmd> = {}): Cmd => ({ file: "flyctl", args, ...extra });

/** `flyctl version --json`: one compact JSON line; needs no session (flyctl `internal/command/version/version.go`). */
export const flyVersion = (): Cmd => fly(["version", "--json"]);

/** `flyctl auth whoami --json` → `{"email": …}` (flyctl `internal/command/auth/whoami.go`). */
export const flyWhoami = (): Cmd => fly(["auth", "whoami", "--json"]);

/** `flyctl apps list --json` → fly-go App objects, PascalCase (flyctl `internal/command/apps/list.go`; fly-go `types.go` `App`). */
export const flyAppsList = (): Cmd => fly(["apps", "list", "--json"]);

/** `flyctl releases --json -a <app>` → the 25 newest releases, newest first (flyctl `internal/command/releases/releases.go`). */
export const flyReleases = (app: string): Cmd => fly(["releases", "--json", "-a", app]);

/** `flyctl status --json -a <app>` (flyctl `internal/command/status/status.go`). */
export const flyStatus = (app: string): Cmd => fly(["status", "--json", "-a", app]);

/** `flyctl ips list --json -a <app>` (flyctl `internal/command/ips/list.go`). */
export const flyIpsList = (app: string): Cmd => fly(["ips", "list", "--json", "-a", app]);

/** `flyctl secrets list --json -a <app>` → `[{name, digest, status?}]` (flyctl `internal/command/secrets/list.go`). */
export const flySecretsList = (app: string): Cmd => fly(["secrets", "list", "--json", "-a", app]);

/**
 * `flyctl secrets import --stage -a <app>` with `NAME=VALUE` pairs on stdin (flyctl docs:
 * `fly secrets import`). `--stage` stores them without restarting machines; the next deploy applies them.
 */
export const flySecretsImportStaged = (app: string, payload: Cmd["input"]): Cmd =>
  fly(["secrets", "import", "--stage", "-a", app], payload === undefined ? {} : { input: payload });

/** `flyctl secrets deploy -a <app>`: applies staged secrets with a restart-only deploy (flyctl docs: `fly secrets deploy`; `internal/command/secrets/deploy.go`). */
export const flySecretsDeploy = (app: string): Cmd => fly(["secrets", "deploy", "-a", app]);

/**
 * `flyctl logs -a <app>`: the app's recent log lines; `follow` keeps streaming new ones until the
 * process is stopped, otherwise `--no-tail` prints only what is buffered and exits
 * (https://fly.io/docs/flyctl/logs/).
 */
export const flyLogs = (app: string, opts: { follow: boolean }): Cmd => fly(["logs", "-a", app, ...(opts.follow ? [] : ["--no-tail"])]);

export interface FlyDeployOptions {
  app: string;
  /** fly.toml path relative to the working directory (the repo root is the build context). */
  config: string;
  /** `--strategy`: rolling|canary|bluegreen|immediate (flyctl docs: `fly deploy`). */
  strategy: string;
  /** `--wait-timeout` as a Go duration (`5m0s`); bounds each wait for started and for checks. */
  waitTimeout: string;
  /** Build and push with this tag: the image becomes `registry.fly.io/<app>:<label>`. */
  imageLabel?: string;
  /** Deploy this prebuilt image instead of building (rollback). */
  image?: string;
  /** `--skip-release-command` (rollback: never re-run a release command with an old image). */
  skipReleaseCommand?: boolean;
  /** `--no-public-ips`: an internal-only app (C-22). */
  noPublicIps?: boolean;
  /** `-e NAME=VALUE` (non-secret values only). */
  env?: Record<string, string>;
}

/**
 * `flyctl deploy -c <config> -a <app> --remote-only …` (flyctl docs: `fly deploy`). With `image`,
 * deploys that image (no build); otherwise builds remotely and tags it with `imageLabel`.
 */
export function flyDeploy(o: FlyDeployOptions): Cmd {
  const args = ["deploy", "-c", o.config, "-a", o.app];
  if (o.image) args.push("--image", o.image);
  else {
    args.push("--remote-only");
    if (o.imageLabel) args.push("--image-label", o.imageLabel);
  }
  args.push("--strategy", o.strategy, "--wait-timeout", o.waitTimeout);
  if (o.skipReleaseCommand) args.push("--skip-release-command");
  if (o.noPublicIps) args.push("--no-public-ips");
  for (const [k, v] of Object.entries(o.env ?? {}).sort(([a], [b]) => a.localeCompare(b))) args.push("-e", `${k}=${v}`);
  args.push("--yes");
  return fly(args);
}
