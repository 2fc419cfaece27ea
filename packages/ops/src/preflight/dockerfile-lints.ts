/**
 * Lints of the Dockerfile itself: stages, secrets baked into ENV/ARG, remote ADDs, `COPY --from`
 * targets, the user the final image runs as, exec-form CMD/ENTRYPOINT, and what the app's stack
 * needs (`node-remix`: protos at GRPC_PROTO_ROOT and the Remix build; `go-static`: a CGO-free Go
 * binary).
 * Rules written here: the npm Dockerfile tools check syntax only (dockerfile-utils) or are
 * unmaintained (dockerfilelint), and hadolint is not an npm package; these rules are our deploy's.
 */
import { basename } from "node:path";
import type { Instruction } from "dockerfile-ast";
import { closest } from "../text/did-you-mean.ts";
import {
  at,
  chain,
  copyOperands,
  effectiveUser,
  type Findings,
  flagsOf,
  hasVariable,
  jsonForm,
  kw,
  lineOf,
  normalizeImagePath,
  properties,
  REMOTE,
  resolveDest,
  type Stage,
  stageEnv,
} from "./dockerfile-model.ts";
import type { FlyFacts } from "./dockerfile-ports.ts";

const CLIENT_PROTO_ROOT = "/app/proto";

export function checkStages(ctx: Findings, stages: Stage[]): void {
  if (stages.length < 2) {
    ctx.results.push({
      id: "dockerfile.multi-stage",
      status: "fail",
      message:
        stages.length === 0
          ? `${ctx.where} has no FROM instruction`
          : `${ctx.where} has one stage: the toolchain, sources and dev dependencies all ship in the image`,
      where: at(ctx, stages[0]?.line ?? 1),
      fix: "build in a first stage (FROM <toolchain> AS build) and copy only the artifacts into a slim final stage (COPY --from=build ...)",
    });
  }
  const seen = new Map<string, number>();
  for (const s of stages) {
    if (s.name === undefined) continue;
    const first = seen.get(s.name);
    if (first !== undefined) {
      ctx.results.push({
        id: "dockerfile.stage-name",
        status: "fail",
        message: `stage name "${s.name}" is used twice (lines ${first} and ${s.line}); Docker refuses duplicate stage names`,
        where: at(ctx, s.line),
        fix: `rename the stage at line ${s.line}`,
      });
    } else seen.set(s.name, s.line);
  }
}

const SECRET_WORDS = new Set(["KEY", "KEYS", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "PASSWD", "PASS", "CREDENTIALS"]);
const SECRET_SUFFIXES = ["TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD"];

/**
 * Whether an ENV/ARG name looks like it carries a secret: a `_`-separated word KEY (APIKEY...),
 * PASS/PASSWD/CREDENTIALS, a word ending in TOKEN/SECRET/PASSWORD (AUTHTOKEN), or DATABASE_URL
 * anywhere (MIGRATION_DATABASE_URL). `PUBLIC_KEY`-style false positives are accepted: rename or
 * move such a value to run time.
 */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (upper.includes("DATABASE_URL")) return true;
  return upper.split(/[_\-.]/).some((w) => SECRET_WORDS.has(w) || SECRET_SUFFIXES.some((s) => w.endsWith(s)));
}

/** No ENV/ARG named like a secret: both are stored in the image config/history in clear text. The value is never printed. */
export function checkSecretNames(ctx: Findings, instructions: Instruction[]): void {
  for (const instr of instructions) {
    const k = kw(instr);
    if (k !== "ENV" && k !== "ARG") continue;
    for (const p of properties(instr)) {
      if (!isSecretName(p.name)) continue;
      ctx.results.push({
        id: "dockerfile.secret-env",
        status: "fail",
        message: `${k} ${p.name} looks like a secret; ${k === "ENV" ? "ENV values are stored in the image config" : "ARG values are kept in the image history"} where anyone who can pull the image reads them`,
        where: at(ctx, p.line),
        fix: `remove ${k} ${p.name}: set it at run time with \`fly secrets\` (the ops secrets step), or for a build-time secret use RUN --mount=type=secret,id=${p.name.toLowerCase()}`,
      });
    }
  }
}

export function checkAddRemote(ctx: Findings, instr: Instruction): void {
  for (const src of copyOperands(instr).sources) {
    if (!REMOTE.test(src)) continue;
    ctx.results.push({
      id: "dockerfile.add-remote",
      status: "fail",
      message: `ADD ${src} downloads at build time: the content can change under the same Dockerfile and is not verified`,
      where: at(ctx, lineOf(instr)),
      fix: "vendor the file into the repository and COPY it, or download it in a build stage with a pinned version and a checksum check",
    });
  }
}

export function checkCopyFrom(ctx: Findings, instr: Instruction, stages: Stage[], stage: Stage): void {
  const from = flagsOf(instr).get("from");
  if (from === undefined) return;
  const line = lineOf(instr);
  const fix = (extra: string) =>
    `${extra}${
      stage.index > 0
        ? `; earlier stages: ${stages
            .slice(0, stage.index)
            .map((s) => s.name ?? String(s.index))
            .join(", ")}`
        : ""
    }`;
  if (from === null || from === "") {
    ctx.results.push({
      id: "dockerfile.copy-from",
      status: "fail",
      message: `${kw(instr)} --from has no value`,
      where: at(ctx, line),
      fix: fix("write --from=<stage>"),
    });
    return;
  }
  if (hasVariable(from)) return;
  const name = from.toLowerCase();
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    if (n >= stage.index) {
      ctx.results.push({
        id: "dockerfile.copy-from",
        status: "fail",
        message: `COPY --from=${from} refers to stage ${n}, which is ${n === stage.index ? "this stage" : "a later stage"}; only earlier stages can be copied from`,
        where: at(ctx, line),
        fix: fix("copy from an earlier stage, preferably by name"),
      });
    }
    return;
  }
  const target = stages.find((s) => s.name === name);
  if (target && target.index < stage.index) return;
  if (target) {
    ctx.results.push({
      id: "dockerfile.copy-from",
      status: "fail",
      message: `COPY --from=${from} names ${target.index === stage.index ? "this stage" : `a later stage (line ${target.line})`}; only earlier stages can be copied from`,
      where: at(ctx, line),
      fix: fix(`move stage "${name}" before line ${line}`),
    });
    return;
  }
  // Not a stage: Docker would pull an image of that name. A full reference (registry/repo:tag) is deliberate; a bare word is a typo.
  if (/[/:@]/.test(from)) return;
  const close = closest(
    name,
    stages.slice(0, stage.index).flatMap((s) => (s.name === undefined ? [] : [s.name])),
  );
  ctx.results.push({
    id: "dockerfile.copy-from",
    status: "fail",
    message: `COPY --from=${from} names no earlier stage${close ? ` (did you mean "${close}"?)` : ""}; Docker would try to pull an image called "${from}"`,
    where: at(ctx, line),
    fix: fix(close ? `write --from=${close}` : "name an earlier stage (FROM ... AS <name>), or give a full image reference with a tag"),
  });
}

export function checkFinalUser(ctx: Findings, stages: Stage[], final: Stage): void {
  const user = effectiveUser(stages, final);
  if (!user) {
    ctx.results.push({
      id: "dockerfile.user",
      status: "fail",
      message: `the final stage (line ${final.line}) sets no USER: the app runs as whatever the base image says, usually root`,
      where: at(ctx, final.line),
      fix: "add USER <non-root user> in the final stage (node images: USER node; distroless: USER nonroot:nonroot)",
    });
    return;
  }
  const name = user.value.split(":")[0]!.trim();
  if (hasVariable(name)) {
    ctx.results.push({
      id: "dockerfile.user",
      status: "warn",
      message: `USER ${user.value} uses a variable; cannot tell whether it is root`,
      where: at(ctx, user.line),
      fix: "write the user name literally",
    });
  } else if (name === "" || name === "root" || name === "0") {
    ctx.results.push({
      id: "dockerfile.user",
      status: "fail",
      message: `the final image runs as ${name === "" ? "an empty USER" : `USER ${user.value}`} (root)`,
      where: at(ctx, user.line),
      fix: "end the final stage with USER <non-root user> (node images: USER node; distroless: USER nonroot:nonroot)",
    });
  }
}

/** CMD/ENTRYPOINT in shell form run under /bin/sh, which does not pass SIGTERM/SIGINT on: no graceful shutdown on deploys. */
export function checkExecForm(ctx: Findings, stages: Stage[], final: Stage): void {
  for (const k of ["ENTRYPOINT", "CMD"]) {
    const instr = chain(stages, final)
      .flatMap((s) => s.instructions)
      .filter((i) => kw(i) === k)
      .at(-1);
    if (!instr || jsonForm(instr.getArgumentsContent()) !== undefined) continue;
    ctx.results.push({
      id: "dockerfile.exec-form",
      status: "warn",
      message: `${k} is in shell form: the app runs under /bin/sh -c, which does not forward SIGINT/SIGTERM, so Fly's stop signal never reaches it and it is killed after kill_timeout`,
      where: at(ctx, lineOf(instr)),
      fix: `write ${k} in exec form, e.g. ${k} ["node", "/app/build/server.mjs"]`,
    });
  }
}

/** A Node/Remix app that loads gRPC protos (stack "node-remix"). */
export function checkNodeRemix(ctx: Findings, stages: Stage[], final: Stage, fly: FlyFacts | undefined, app: string): void {
  const env = stageEnv(stages, final);
  const protoRoot = env.get("GRPC_PROTO_ROOT");
  const effectiveProtoRoot = fly?.env.GRPC_PROTO_ROOT ?? protoRoot?.value;
  if (effectiveProtoRoot !== CLIENT_PROTO_ROOT) {
    ctx.results.push({
      id: `dockerfile.${app}.proto-root`,
      status: "fail",
      message:
        effectiveProtoRoot === undefined
          ? `the final stage sets no GRPC_PROTO_ROOT: the ${app} looks for protos next to build/server.mjs, not at ${CLIENT_PROTO_ROOT}`
          : `GRPC_PROTO_ROOT is "${effectiveProtoRoot}"${fly?.env.GRPC_PROTO_ROOT !== undefined ? ` (from ${fly.where} [env])` : ""}; the image keeps the protos at ${CLIENT_PROTO_ROOT}`,
      where: fly?.env.GRPC_PROTO_ROOT !== undefined ? `${fly.where} [env].GRPC_PROTO_ROOT` : at(ctx, protoRoot?.line ?? final.line),
      fix: `set ENV GRPC_PROTO_ROOT=${CLIENT_PROTO_ROOT} in the final stage${fly ? ` (and the same in ${fly.where} [env], or leave it out there)` : ""}`,
    });
  }

  const copies = chain(stages, final).flatMap((s) => s.instructions.filter((i) => kw(i) === "COPY").map((i) => ({ i, s })));
  const protoCopied = copies.some(({ i, s }) => {
    const { sources, dest } = copyOperands(i);
    if (dest === undefined || resolveDest(stages, s, lineOf(i), dest) !== CLIENT_PROTO_ROOT) return false;
    return sources.some((src) => basename(normalizeImagePath(src)) === "proto");
  });
  if (!protoCopied) {
    ctx.results.push({
      id: `dockerfile.${app}.proto`,
      status: "fail",
      message: `the final stage does not copy a proto folder to ${CLIENT_PROTO_ROOT}: the ${app} fails to load its gRPC service definitions at start`,
      where: at(ctx, final.line),
      fix: `add COPY proto/ ${CLIENT_PROTO_ROOT}/ to the final stage`,
    });
  }

  const buildCopied = copies.some(({ i }) => {
    if (!flagsOf(i).get("from")) return false;
    return copyOperands(i).sources.some((src) => {
      const p = normalizeImagePath(src);
      return basename(p) === "build" || p.includes("/build/");
    });
  });
  if (!buildCopied) {
    ctx.results.push({
      id: `dockerfile.${app}.build`,
      status: "fail",
      message: "the final stage copies no Remix build (a build/ folder) from a build stage: there is no server to start",
      where: at(ctx, final.line),
      fix: `run \`pnpm --filter ${app} build\` in a build stage and COPY --from=<that stage> <the app's folder>/build /app/build in the final stage`,
    });
  }
}

/** A static Go binary (stack "go-static"). */
export function checkGoStatic(ctx: Findings, stages: Stage[], app: string): void {
  const builds: { instr: Instruction; stage: Stage }[] = [];
  for (const stage of stages)
    for (const instr of stage.instructions)
      if (kw(instr) === "RUN" && /\bgo\s+build\b/.test(instr.getArgumentsContent() ?? "")) builds.push({ instr, stage });
  if (builds.length === 0) {
    ctx.results.push({
      id: `dockerfile.${app}.static`,
      status: "fail",
      message: `no stage runs \`go build\`: the ${app} binary is not built in the image`,
      where: at(ctx, stages[0]?.line ?? 1),
      fix: `add RUN CGO_ENABLED=0 go build -trimpath -o /out/${app} ./cmd/${app} to a build stage`,
    });
  }
  for (const { instr, stage } of builds) {
    const line = lineOf(instr);
    const inRun = /\bCGO_ENABLED=0\b/.test(instr.getArgumentsContent() ?? "");
    let inEnv = false;
    for (const s of chain(stages, stage)) {
      for (const i of s.instructions) {
        if (lineOf(i) >= line) break;
        const k = kw(i);
        if (k === "ENV" || k === "ARG") for (const p of properties(i)) if (p.name === "CGO_ENABLED") inEnv = p.value === "0";
      }
    }
    if (!inRun && !inEnv) {
      ctx.results.push({
        id: `dockerfile.${app}.static`,
        status: "fail",
        message: `go build at line ${line} does not set CGO_ENABLED=0: the binary links libc dynamically and does not start on a static/distroless base`,
        where: at(ctx, line),
        fix: "prefix the command with CGO_ENABLED=0 (RUN CGO_ENABLED=0 go build ...) or set ENV CGO_ENABLED=0 in the build stage",
      });
    }
  }
}
