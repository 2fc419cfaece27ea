/**
 * Static preflight checks of each built app's Dockerfile (no Docker engine needed), in three parts:
 * the Dockerfile lints (dockerfile-lints.ts), the build context and its .dockerignore
 * (dockerfile-context.ts), and the ports and bind address of the app's port contract
 * (port-contract.ts) against its fly.toml (dockerfile-ports.ts); dockerfile-model.ts parses.
 *
 * Check ids: dockerfile.read, dockerfile.multi-stage, dockerfile.stage-name, dockerfile.user,
 * dockerfile.add-remote, dockerfile.secret-env, dockerfile.copy-from, dockerfile.copy-source,
 * dockerfile.dockerignore, dockerfile.exec-form, dockerfile.fly-toml, dockerfile.<app>.proto-root,
 * dockerfile.<app>.proto, dockerfile.<app>.build (node-remix), dockerfile.<app>.static (go-static),
 * dockerfile.<app>.port, dockerfile.<app>.host, and the `pass` summary dockerfile.<app>.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { checkCopySources, checkFolderCopies, openBuildContext } from "./dockerfile-context.ts";
import {
  checkAddRemote,
  checkCopyFrom,
  checkExecForm,
  checkFinalUser,
  checkGoStatic,
  checkNodeRemix,
  checkSecretNames,
  checkStages,
} from "./dockerfile-lints.ts";
import { effectiveUser, kw, splitStages } from "./dockerfile-model.ts";
import { checkInternalPorts, checkPublicPorts, readFlyToml } from "./dockerfile-ports.ts";
import type { BuiltPortContract } from "./port-contract.ts";
import type { CheckResult } from "./types.ts";

export { isSecretName } from "./dockerfile-lints.ts";

/** Options of {@link checkDockerfile}. */
export interface DockerfileCheckOptions {
  /** The build context: local COPY sources resolve here. The repo root for both apps (flyctl builds from the working directory). */
  contextDir: string;
  /** The app's port contract (from ops.config.ts): its name, exposure, port and bind variables, and stack-specific checks. */
  contract: BuiltPortContract;
  /** The app's fly.toml: its `[env]` wins over the image's ENV, and its ports must match. Unset: ports are checked against the Dockerfile alone. */
  flyTomlPath?: string;
  /** The .dockerignore to apply. @default `<Dockerfile>.dockerignore` if it exists, else `<contextDir>/.dockerignore` */
  dockerignorePath?: string;
  /** How the Dockerfile is named in `where`. @default its path relative to `contextDir` */
  displayPath?: string;
}

/**
 * Checks one Dockerfile on disk. Never throws: an unreadable file becomes one `fail`.
 * Returns every finding (`warn`/`fail` with `where` = `path:line` and a `fix`), plus a `pass`
 * summary (`dockerfile.<app>`) when nothing fails.
 */
export function checkDockerfile(path: string, opts: DockerfileCheckOptions): CheckResult[] {
  const contextDir = resolve(opts.contextDir);
  const abs = resolve(path);
  const rel = relative(contextDir, abs);
  const where = opts.displayPath ?? (rel.startsWith("..") || isAbsolute(rel) ? path : rel.split("\\").join("/"));
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (err) {
    return [
      {
        id: "dockerfile.read",
        status: "fail",
        message: `cannot read ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        where,
        fix: `create ${where} or point the check at the right file`,
      },
    ];
  }
  const dockerignorePath =
    opts.dockerignorePath ?? (existsSync(`${abs}.dockerignore`) ? `${abs}.dockerignore` : join(contextDir, ".dockerignore"));
  return checkDockerfileText(text, where, { ...opts, contextDir, dockerignorePath });
}

/** {@link checkDockerfile} on text already read; `where` names the file in every result. The context is still read from disk. */
export function checkDockerfileText(text: string, where: string, opts: DockerfileCheckOptions): CheckResult[] {
  const contextDir = resolve(opts.contextDir);
  const ignorePath = opts.dockerignorePath ?? join(contextDir, ".dockerignore");
  const ctx = openBuildContext(where, contextDir, ignorePath);

  if (text.trim() === "") {
    return [
      { id: "dockerfile.read", status: "fail", message: `${where} is empty`, where, fix: `write the multi-stage build into ${where}` },
    ];
  }
  const dockerfile = DockerfileParser.parse(text);
  const { stages, globalArgs } = splitStages(dockerfile.getInstructions());

  checkStages(ctx, stages);
  checkSecretNames(ctx, [...globalArgs, ...stages.flatMap((s) => s.instructions)]);
  for (const stage of stages) {
    for (const instr of stage.instructions) {
      const k = kw(instr);
      if (k === "ADD") checkAddRemote(ctx, instr);
      if (k === "COPY" || k === "ADD") {
        checkCopyFrom(ctx, instr, stages, stage);
        checkCopySources(ctx, instr);
      }
    }
  }
  checkFolderCopies(ctx);
  const final = stages.at(-1);
  if (final) {
    checkFinalUser(ctx, stages, final);
    checkExecForm(ctx, stages, final);
    const fly = readFlyToml(ctx, opts.flyTomlPath);
    const c = opts.contract;
    if (c.stack === "node-remix") checkNodeRemix(ctx, stages, final, fly, c.app);
    if (c.stack === "go-static") checkGoStatic(ctx, stages, c.app);
    if (c.exposure === "public") checkPublicPorts(ctx, stages, final, fly, c);
    else checkInternalPorts(ctx, stages, final, fly, c);
  }

  const results = ctx.results;
  if (!results.some((r) => r.status === "fail")) {
    const user = final ? effectiveUser(stages, final)?.value : undefined;
    results.unshift({
      id: `dockerfile.${opts.contract.app}`,
      status: "pass",
      message: `${where}: ${stages.length} stages, final stage from ${final?.base ?? "?"} runs as ${user ?? "?"}`,
      where,
    });
  }
  return results;
}
