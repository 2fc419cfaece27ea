import { flyAppKey } from "../config/app-keys.ts";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { bufBreaking } from "../commands/buf.ts";
import { flyAppsList, flyVersion, flyWhoami } from "../commands/fly.ts";
import { gitIsTracked, gitStatusPorcelain } from "../commands/git.ts";
import { commitOfSha, isDirtySha, shortSha } from "../git-info.ts";
import type { OpsContext } from "../context.ts";
import { listHistory } from "../db/history.ts";
import { flyTarget } from "../fly/context.ts";
import { flyExitMeaning, FlyctlFailedError } from "../fly/flyctl.ts";
import { checkMigrationUrl } from "../neon/migration-url.ts";
import { checkDatabaseUrlFor, pgxVersionFromGoMod, type DbUrlConsumer } from "../neon/url-consumers.ts";
import { flySecretsFilePath, resolveFlySecrets } from "../secrets/fly-source.ts";
import { readOpsDb } from "../target-db.ts";
import { checkInternalFlyToml, checkPublicFlyToml } from "./fly-toml-checks.ts";
import { checkFlyTomlEnvSecrets } from "./fly-toml-env-secrets.ts";
import { checkFlyTomlSchema } from "./fly-toml-schema.ts";
import { checkDockerfile } from "./dockerfile-checks.ts";
import { compareVersions } from "./tool-checks.ts";
import type { CheckResult } from "./types.ts";
import type { OpsConfig } from "../config/schema.ts";
import { portContractOf } from "./port-contract.ts";
import { builtApp, isImageOnly } from "../config/app-kind.ts";
import { maskSecretValues } from "../secrets/mask-values.ts";

const MIN_FLYCTL = "0.4.56"; // first flyctl release whose deploy prints the FLY_EMIT_RELEASE_JSON line

const fail = (id: string, message: string, fix: string, where?: string): CheckResult => ({
  id,
  status: "fail",
  message,
  fix,
  ...(where ? { where } : {}),
});
const pass = (id: string, message: string): CheckResult => ({ id, status: "pass", message });

/** What the flyctl probes (`flyctl version`, `fly auth whoami`) found, shared by the checks that need a working session. */
interface FlySession {
  /** `fly.cli` and, unless flyctl did not run, `fly.auth`. */
  results: CheckResult[];
  /** The id of the failed check the dependent checks need, or undefined when flyctl ran and the token works. */
  blockedBy: "fly.cli" | "fly.auth" | undefined;
}

/** One probe per context: `fly.cli`, `fly.auth` and `fly.apps` run concurrently but share it. */
const sessions = new WeakMap<OpsContext, Promise<FlySession>>();
const flySession = (ctx: OpsContext): Promise<FlySession> => {
  let p = sessions.get(ctx);
  if (!p) {
    p = probeFlySession(ctx);
    sessions.set(ctx, p);
  }
  return p;
};

/** flyctl's own stderr, already redacted, indented under a check message; says so when there was none. */
const stderrBlock = (lines: readonly string[]) =>
  lines.length ? `; flyctl said:\n      ${lines.join("\n      ")}` : "; flyctl printed nothing on stderr";

/**
 * Runs `flyctl version --json` and, when it ran, `fly auth whoami --json`. A flyctl that cannot be
 * found is "not installed"; one that runs but fails is reported with its exit code and its own
 * stderr (redacted). When flyctl did not run, `fly.auth` is a `skip` naming `fly.cli`, so one root
 * cause gives one failed check.
 */
async function probeFlySession(ctx: OpsContext): Promise<FlySession> {
  const { flyctl } = flyTarget(ctx);
  let version;
  try {
    version = await flyctl.run(flyVersion(), "flyctl version", { session: false, timeoutMs: 30_000 });
  } catch (err) {
    if (!(err instanceof FlyctlFailedError)) throw err;
    const cli = err.notInstalled
      ? fail(
          "fly.cli",
          `flyctl is not installed: \`${err.command}\` exited 127 (command not found on PATH)`,
          "Install flyctl (curl -L https://fly.io/install.sh | sh) or the setup-flyctl action in CI, and put it on PATH.",
        )
      : fail(
          "fly.cli",
          `flyctl is on PATH but \`${err.command}\` failed (${flyExitMeaning(err.commandExitCode)}, exit ${err.commandExitCode ?? "signal"})${stderrBlock(err.stderrLines)}`,
          "Fix what flyctl's message says (a variable or config file it needs, a broken install: reinstall with curl -L https://fly.io/install.sh | sh), then run `flyctl version` by hand until it works.",
        );
    return { results: [cli, skipped("fly.auth", "fly.cli")], blockedBy: "fly.cli" };
  }
  let v = "";
  try {
    v = String((JSON.parse(version.stdout) as { Version?: string }).Version ?? "");
  } catch {
    v = version.stdout.match(/v?(\d+\.\d+\.\d+)/)?.[1] ?? "";
  }
  const results: CheckResult[] = [
    compareVersions(v, MIN_FLYCTL) >= 0
      ? pass("fly.cli", `flyctl ${v}`)
      : fail(
          "fly.cli",
          `flyctl ${v || "(unknown version)"} is older than ${MIN_FLYCTL}`,
          "Upgrade flyctl (fly version upgrade); deploys need FLY_EMIT_RELEASE_JSON.",
        ),
  ];
  if (!ctx.env.flyApiToken) {
    results.push(
      fail(
        "fly.auth",
        "FLY_API_TOKEN is not set",
        "Create a deploy token (fly tokens create deploy) and export FLY_API_TOKEN; in CI use the repository secret.",
      ),
    );
    return { results, blockedBy: "fly.auth" };
  }
  try {
    const who = await flyctl.json<{ email?: string }>(flyWhoami(), "fly auth whoami");
    results.push(pass("fly.auth", `authenticated as ${who.email ?? "(token identity)"}`));
    return { results, blockedBy: undefined };
  } catch (err) {
    if (!(err instanceof FlyctlFailedError)) throw err;
    const rejected = err.stderrLines.some((l) => /no access token|must be authenticated|unauthorized|not authorized/i.test(l));
    results.push(
      fail(
        "fly.auth",
        `fly auth whoami failed (\`${err.command}\`, ${flyExitMeaning(err.commandExitCode)}): ${rejected ? "Fly rejected the token in FLY_API_TOKEN" : "the token could not be checked"}${stderrBlock(err.stderrLines)}`,
        rejected
          ? "Create a new deploy token and set FLY_API_TOKEN. `fly tokens create deploy` makes one; in CI, update the repository secret."
          : "Fix what flyctl's message says (network, proxy, Fly's status page), then run `fly auth whoami` by hand until it works.",
      ),
    );
    return { results, blockedBy: "fly.auth" };
  }
}

/** A check that did not run because `needs` failed (that check carries the cause and the fix). */
const skipped = (id: string, needs: string): CheckResult => ({ id, status: "skip", message: `skipped: needs ${needs}, which failed` });

/** flyctl is installed and runs, is new enough, and the token works (`fly auth whoami`). */
export async function checkFlyCli(ctx: OpsContext): Promise<CheckResult[]> {
  return (await flySession(ctx)).results;
}

/** Each app of the environment exists on Fly; skipped (not failed) when flyctl or the token does not work. */
export async function checkFlyApps(ctx: OpsContext): Promise<CheckResult[]> {
  const session = await flySession(ctx);
  if (session.blockedBy) return [skipped("fly.apps", session.blockedBy)];
  const { flyctl, appsEnv } = flyTarget(ctx);
  const listed = new Set((await flyctl.json<{ Name: string }[]>(flyAppsList(), "fly apps list")).map((a) => a.Name));
  return ctx.config.deployOrder.map((app) => {
    const name = appsEnv.appNames[app]!;
    return listed.has(name)
      ? pass(`fly.app.${app}`, `${name} exists`)
      : fail(
          `fly.app.${app}`,
          `Fly app ${name} does not exist (or the token cannot see it)`,
          `Create it: fly apps create ${name}${appsEnv.org ? ` --org ${appsEnv.org}` : ""}; or fix ${flyAppKey(app)} in ${appsEnv.file}.`,
          appsEnv.file,
        );
  });
}

/** Each app's Dockerfile, statically (no Docker engine): stages, non-root user, COPY sources, ports against its fly.toml. */
export function checkFlyDockerfiles(ctx: OpsContext): CheckResult[] {
  return ctx.config.deployOrder.flatMap((app) => {
    const cfg = ctx.config.apps[app]!;
    // An image-only app has no Dockerfile of ours; its image ref is checked by checkImageRefs.
    if (!cfg.fly || isImageOnly(cfg)) return [];
    const built = builtApp(app, cfg);
    return checkDockerfile(join(ctx.env.repoRoot, built.dir, "Dockerfile"), {
      contextDir: ctx.env.repoRoot,
      contract: { ...portContractOf(app, cfg), portEnv: built.portEnv },
      flyTomlPath: join(ctx.env.repoRoot, cfg.fly.config),
    });
  });
}

/** fly.toml rules (C-20, C-22): a public app's port and bind, an internal app without services; every key one flyctl reads (flyctl's schema); no credential in [env]; primary_region matches FLY_REGION. */
export function checkFlyTomls(ctx: OpsContext): CheckResult[] {
  const { appsEnv } = flyTarget(ctx);
  return ctx.config.deployOrder.flatMap((app) => {
    const cfg = ctx.config.apps[app]!;
    const fly = cfg.fly;
    if (!fly)
      return [
        fail(`fly.toml.${app}`, `apps.${app}.fly is not set`, "Give the app fly: { config, public } in ops.config.ts.", "ops.config.ts"),
      ];
    const path = join(ctx.env.repoRoot, fly.config);
    if (!existsSync(path))
      return [fail(`fly.toml.${app}`, `${fly.config} does not exist`, "Create it (see infra/fly/README.md).", fly.config)];
    const text = readFileSync(path, "utf8");
    const region = text.match(/^primary_region\s*=\s*["']([^"']+)["']/m)?.[1];
    const regionCheck: CheckResult[] =
      region && region !== appsEnv.region
        ? [
            {
              id: `fly.region.${app}`,
              status: "warn",
              message: `${fly.config} has primary_region = "${region}" but ${appsEnv.file} says FLY_REGION=${appsEnv.region}`,
              where: fly.config,
              fix: "Keep them equal (and close to the Neon region).",
            },
          ]
        : [];
    return [
      ...(fly.public
        ? checkPublicFlyToml(text, fly.config, portContractOf(app, cfg))
        : checkInternalFlyToml(text, fly.config, portContractOf(app, cfg))),
      ...checkFlyTomlSchema(text, fly.config),
      ...checkFlyTomlEnvSecrets(text, fly.config),
      ...regionCheck,
    ];
  });
}

/** The secrets file is git-ignored, private, parses, and holds every declared key. */
export async function checkFlySecrets(ctx: OpsContext): Promise<CheckResult[]> {
  const file = flySecretsFilePath(ctx.env);
  const shown = relative(ctx.env.repoRoot, file) || file;
  const out: CheckResult[] = [];
  if (existsSync(file)) {
    if ((await ctx.runner(gitIsTracked(ctx.env.repoRoot, file))).ok) {
      out.push(
        fail(
          "secrets.tracked",
          `${shown} is tracked by git`,
          `git rm --cached ${shown}, keep it in .gitignore, and rotate every value in it (it is in the git history).`,
          shown,
        ),
      );
    }
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0)
      out.push(
        fail("secrets.mode", `${shown} has mode ${mode.toString(8).padStart(4, "0")}, wider than 0600`, `chmod 600 ${shown}`, shown),
      );
  }
  try {
    const r = resolveFlySecrets(ctx.config, ctx.env);
    maskSecretValues(ctx, r.values);
    for (const w of r.fileWarnings)
      out.push({
        id: "secrets.file",
        status: "warn",
        message: w,
        where: w.match(/^([^:]+:\d+):/)?.[1] ?? shown,
        fix: "See the message; it says how to quote the value.",
      });
    out.push(pass("secrets", `${r.values.size} secrets from ${r.source}`));
  } catch (err) {
    const e = err as Error & { where?: string; fix?: string };
    out.push(fail("secrets", e.message, e.fix ?? "See the message.", e.where));
  }
  return out;
}

/** The migration URL follows Neon's rules (C-13, C-15) and the Neon API is configured for restore points. */
export function checkFlyDatabase(ctx: OpsContext): CheckResult[] {
  const out: CheckResult[] = [];
  if (!ctx.env.migrationDatabaseUrl) {
    out.push(
      fail(
        "database.url",
        "MIGRATION_DATABASE_URL is not set",
        "Export the Neon direct (non-pooler) URL with sslmode=require as MIGRATION_DATABASE_URL.",
      ),
    );
  } else {
    const c = checkMigrationUrl(ctx.env.migrationDatabaseUrl.reveal());
    out.push(
      c.ok
        ? pass("database.url", `migrations connect to ${c.host}${c.direct ? " (direct endpoint)" : ""}`)
        : fail("database.url", c.message, c.fix, "MIGRATION_DATABASE_URL"),
    );
    const consumer: DbUrlConsumer = { kind: "node-postgres", name: "the migrate step" };
    for (const f of checkDatabaseUrlFor(ctx.env.migrationDatabaseUrl.reveal(), consumer, "MIGRATION_DATABASE_URL")) {
      out.push({ id: "database.url.parse", status: f.status, message: f.message, fix: f.fix, where: "MIGRATION_DATABASE_URL" });
    }
  }
  out.push(...checkRuntimeDatabaseUrls(ctx));
  const { appsEnv } = flyTarget(ctx);
  if (!appsEnv.neon)
    out.push(
      fail(
        "database.neon",
        `${appsEnv.file} has no NEON_PROJECT_ID/NEON_BRANCH_ID: no restore point can be taken before migrating`,
        "Set both (Neon console → Branches).",
        appsEnv.file,
      ),
    );
  else if (!ctx.env.neonApiKey)
    out.push(
      fail(
        "database.neon",
        "NEON_API_KEY is not set: no restore point can be taken before migrating",
        "Export NEON_API_KEY (a repository secret in CI).",
      ),
    );
  else out.push(pass("database.neon", `restore points on Neon project ${appsEnv.neon.projectId}, branch ${appsEnv.neon.branchId}`));
  return out;
}

/**
 * Which program reads an app's DATABASE_URL: pgx (at the version its go.mod requires) for a Go app,
 * node-postgres for a node app, `undefined` when neither is recognisable.
 */
export function databaseUrlConsumer(repoRoot: string, config: OpsConfig, app: string): DbUrlConsumer | undefined {
  const appDir = config.apps[app]!.dir;
  if (appDir === undefined) return undefined;
  const dir = join(repoRoot, appDir);
  const goMod = join(dir, "go.mod");
  if (existsSync(goMod)) {
    const version = pgxVersionFromGoMod(readFileSync(goMod, "utf8"));
    return version ? { kind: "pgx", name: `apps.${app}`, version } : undefined;
  }
  return existsSync(join(dir, "package.json")) ? { kind: "node-postgres", name: `apps.${app}` } : undefined;
}

/** Each app's runtime DATABASE_URL (from the secrets), parsed the way that app's driver parses it. */
export function checkRuntimeDatabaseUrls(ctx: OpsContext): CheckResult[] {
  let values;
  try {
    values = resolveFlySecrets(ctx.config, ctx.env).values;
  } catch {
    return []; // the secrets check reports why
  }
  const out: CheckResult[] = [];
  for (const app of ctx.config.deployOrder) {
    const url = ctx.config.apps[app]!.secrets.includes("DATABASE_URL") ? values.get("DATABASE_URL") : undefined;
    const consumer = url ? databaseUrlConsumer(ctx.env.repoRoot, ctx.config, app) : undefined;
    if (!url || !consumer) continue;
    const findings = checkDatabaseUrlFor(url.reveal(), consumer, `DATABASE_URL of ${app}`);
    for (const f of findings)
      out.push({ id: `database.url.${app}`, status: f.status, message: f.message, fix: f.fix, where: `DATABASE_URL (secret of ${app})` });
    if (findings.length === 0)
      out.push(
        pass(
          `database.url.${app}`,
          `DATABASE_URL of ${app} reads as written for ${consumer.kind === "pgx" ? `pgx ${consumer.version}` : "node-postgres"}`,
        ),
      );
  }
  return out;
}

/** A production deploy ships a commit: the tree must be clean (other environments only warn). */
export async function checkGitClean(ctx: OpsContext): Promise<CheckResult[]> {
  const res = await ctx.runner(gitStatusPorcelain(ctx.env.repoRoot));
  if (!res.ok)
    return [
      {
        id: "git.clean",
        status: "warn",
        message: "not a git checkout; the release cannot be tied to a commit",
        fix: "Deploy from a clone.",
      },
    ];
  const dirty = res.stdout.split("\n").filter(Boolean);
  if (dirty.length === 0) return [pass("git.clean", "the working tree is clean")];
  const message = `${dirty.length} uncommitted change${dirty.length > 1 ? "s" : ""} (${dirty
    .slice(0, 3)
    .map((l) => l.slice(3))
    .join(", ")}${dirty.length > 3 ? ", …" : ""})`;
  return [
    ctx.env.environment === "production"
      ? fail("git.clean", message, "Commit or stash them; production ships a commit.")
      : { id: "git.clean", status: "warn", message, fix: "Commit them so the release matches a commit." },
  ];
}

/** Proto changes are wire-compatible with the release deployed now (`buf breaking`). */
export async function checkProtoCompatible(ctx: OpsContext): Promise<CheckResult[]> {
  let last;
  try {
    // Reads only: a preflight (and its dry run) creates no schema.
    const history = await readOpsDb(ctx, "deploy history", (c) => listHistory(c, ctx.env.environment, 50), []);
    last = history.find((e) => e.kind === "deploy" && e.status === "succeeded" && e.gitSha !== "unknown");
  } catch (err) {
    return [
      {
        id: "proto.breaking",
        status: "warn",
        message: `could not read the deploy history to find the deployed commit: ${(err as Error).message}`,
        fix: "The database check above says why; proto compatibility was not checked.",
      },
    ];
  }
  if (!last) return [pass("proto.breaking", "no earlier deploy recorded; nothing to compare the protos with")];
  // A tree deployed with uncommitted changes is compared with the commit it started from.
  const commit = commitOfSha(last.gitSha);
  const deployed = isDirtySha(last.gitSha) ? `${shortSha(last.gitSha)} (compared with its commit)` : shortSha(last.gitSha);
  if (!(await ctx.runner({ file: "git", args: ["cat-file", "-e", `${commit}^{commit}`], cwd: ctx.env.repoRoot })).ok) {
    return [
      {
        id: "proto.breaking",
        status: "warn",
        message: `the deployed commit ${shortSha(commit)} is not in this clone, so proto/ could not be compared with it`,
        fix: "Fetch it (git fetch origin, or actions/checkout with fetch-depth: 0).",
      },
    ];
  }
  const res = await ctx.runner(bufBreaking(ctx.env.repoRoot, "proto", commit), { timeoutMs: 60_000 });
  if (res.ok) return [pass("proto.breaking", `proto/ is compatible with the deployed ${deployed}`)];
  const lines = (res.stdout + res.stderr).split("\n").filter(Boolean).slice(0, 8);
  return [
    fail(
      "proto.breaking",
      `proto/ breaks compatibility with the deployed ${deployed}:\n      ${lines.join("\n      ")}`,
      "Make the change additive (new fields/RPCs, reserve removed numbers), or deploy both sides in lockstep knowingly.",
      "proto/",
    ),
  ];
}
