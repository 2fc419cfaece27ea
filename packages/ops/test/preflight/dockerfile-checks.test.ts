import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDockerfile, checkDockerfileText, isSecretName, type DockerfileCheckOptions } from "../../src/preflight/dockerfile-checks.ts";
import type { CheckResult } from "../../src/preflight/types.ts";
import { CONTRACTS } from "./contracts.ts";

const fails = (r: CheckResult[]) => r.filter((x) => x.status === "fail");
const warns = (r: CheckResult[]) => r.filter((x) => x.status === "warn");
const ids = (r: CheckResult[]) => [...new Set(r.map((x) => x.id))].sort();

const DOCKERIGNORE = [
  "**/.env",
  "**/.env.*",
  ".git",
  "**/node_modules",
  ".ops",
  "**/.turbo",
  "**/build",
  "apps/backend/bin",
  "**/*.log",
].join("\n");

/** A small build context shaped like the repo: what the Dockerfiles COPY, plus outputs the .dockerignore drops. */
const CONTEXT_FILES: Record<string, string> = {
  ".dockerignore": DOCKERIGNORE,
  "package.json": "{}",
  "pnpm-lock.yaml": "",
  "proto/deployops/status/v1/status.proto": 'syntax = "proto3";',
  "apps/client/package.json": "{}",
  "apps/client/build/server.mjs": "// output, ignored",
  "apps/backend/go.mod": "module x",
  "apps/backend/go.sum": "",
  "apps/backend/cmd/backend/main.go": "package main",
  "apps/backend/internal/config/config.go": "package config",
  "apps/backend/gen/x.go": "package gen",
  "apps/backend/bin/backend": "binary, ignored",
  "docs/my notes.md": "a file name with a space",
  "logs/only.log": "every file here is ignored",
};

let ctxDir: string;
beforeAll(() => {
  ctxDir = mkdtempSync(join(tmpdir(), "dockerfile-checks-"));
  for (const [path, text] of Object.entries(CONTEXT_FILES)) {
    mkdirSync(dirname(join(ctxDir, path)), { recursive: true });
    writeFileSync(join(ctxDir, path), text);
  }
});
afterAll(() => rmSync(ctxDir, { recursive: true, force: true }));

const CLIENT_OK = `# syntax=docker/dockerfile:1
FROM node:20-slim AS build
RUN npm install -g pnpm@12.4.2
WORKDIR /repo
COPY . .
RUN pnpm install --frozen-lockfile --filter client...
RUN pnpm --filter client build

FROM node:20-slim AS runtime
WORKDIR /app
ENV GRPC_PROTO_ROOT=/app/proto \\
    PORT=3000 \\
    HOST=0.0.0.0
COPY --from=build /repo/apps/client/build /app/build
COPY proto/ /app/proto/
USER node
EXPOSE 3000
CMD ["node", "/app/build/server.mjs"]
`;

const BACKEND_OK = `ARG GO_VERSION=1.24
FROM golang:\${GO_VERSION}-alpine AS build
WORKDIR /src
COPY apps/backend/go.mod apps/backend/go.sum ./
RUN go mod download
COPY apps/backend/cmd ./cmd
COPY apps/backend/internal ./internal
COPY apps/backend/gen ./gen
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/backend ./cmd/backend

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/backend /usr/local/bin/backend
USER nonroot:nonroot
ENV GRPC_HOST=:: GRPC_PORT=50051
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/backend"]
`;

const D = "apps/x/Dockerfile";
const check = (text: string, kind: keyof typeof CONTRACTS, extra: Partial<DockerfileCheckOptions> = {}) =>
  checkDockerfileText(text, D, {
    contextDir: ctxDir,
    contract: CONTRACTS[kind],
    dockerignorePath: join(ctxDir, ".dockerignore"),
    ...extra,
  });

/** Writes a file into a fresh folder of the context and returns its path. */
function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(ctxDir, "tmp-"));
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

describe("checkDockerfile: good Dockerfiles pass", () => {
  it("passes the client shape with only the summary", () => {
    expect(check(CLIENT_OK, "client")).toEqual([
      { id: "dockerfile.client", status: "pass", message: `${D}: 2 stages, final stage from node:20-slim runs as node`, where: D },
    ]);
  });

  it("passes the backend shape with only the summary", () => {
    expect(check(BACKEND_OK, "backend")).toEqual([
      {
        id: "dockerfile.backend",
        status: "pass",
        message: `${D}: 2 stages, final stage from gcr.io/distroless/static-debian12:nonroot runs as nonroot:nonroot`,
        where: D,
      },
    ]);
  });

  it("reads the file from disk and names it relative to the context", () => {
    mkdirSync(join(ctxDir, "apps/client"), { recursive: true });
    writeFileSync(join(ctxDir, "apps/client/Dockerfile"), CLIENT_OK);
    const r = checkDockerfile(join(ctxDir, "apps/client/Dockerfile"), { contextDir: ctxDir, contract: CONTRACTS.client });
    expect(r).toEqual([expect.objectContaining({ id: "dockerfile.client", status: "pass", where: "apps/client/Dockerfile" })]);
  });

  it("an unreadable Dockerfile is one fail, not a throw", () => {
    expect(checkDockerfile(join(ctxDir, "nope/Dockerfile"), { contextDir: ctxDir, contract: CONTRACTS.client })).toEqual([
      {
        id: "dockerfile.read",
        status: "fail",
        message: "cannot read nope/Dockerfile: ENOENT",
        where: "nope/Dockerfile",
        fix: "create nope/Dockerfile or point the check at the right file",
      },
    ]);
  });

  it("takes <Dockerfile>.dockerignore over the context's .dockerignore (BuildKit's rule)", () => {
    const path = writeTemp("Dockerfile", CLIENT_OK);
    writeFileSync(`${path}.dockerignore`, "**/node_modules\n.git\nproto\n");
    const r = checkDockerfile(path, { contextDir: ctxDir, contract: CONTRACTS.client });
    expect(ids(fails(r))).toEqual(["dockerfile.copy-source", "dockerfile.dockerignore"]);
  });
});

describe("checkDockerfile: each bad Dockerfile fails with exactly its rule", () => {
  const client = (from: string, to: string) => {
    if (!CLIENT_OK.includes(from)) throw new Error(`fixture has no ${JSON.stringify(from)}`);
    return CLIENT_OK.replace(from, to);
  };
  const backend = (from: string, to: string) => {
    if (!BACKEND_OK.includes(from)) throw new Error(`fixture has no ${JSON.stringify(from)}`);
    return BACKEND_OK.replace(from, to);
  };

  const table: { name: string; kind: "client" | "backend"; text: string; rule: string; line: number }[] = [
    {
      name: "one stage",
      kind: "backend",
      text: "FROM golang:1.24\nRUN CGO_ENABLED=0 go build -o /b ./cmd/backend\nUSER 1000\nENV GRPC_PORT=50051\n",
      rule: "dockerfile.multi-stage",
      line: 1,
    },
    { name: "no USER in the final stage", kind: "client", text: client("USER node\n", ""), rule: "dockerfile.user", line: 9 },
    { name: "USER root", kind: "client", text: client("USER node", "USER root"), rule: "dockerfile.user", line: 16 },
    { name: "USER 0:0", kind: "backend", text: backend("USER nonroot:nonroot", "USER 0:0"), rule: "dockerfile.user", line: 13 },
    {
      name: "USER set only in a build stage",
      kind: "client",
      text: client("USER node\n", "").replace("WORKDIR /repo", "USER node\nWORKDIR /repo"),
      rule: "dockerfile.user",
      line: 10,
    },
    {
      name: "ADD of a remote URL",
      kind: "client",
      text: client("USER node", "ADD https://example.com/tool.tgz /tmp/\nUSER node"),
      rule: "dockerfile.add-remote",
      line: 16,
    },
    {
      name: "ADD of a git repository",
      kind: "backend",
      text: backend("WORKDIR /src", "ADD git@example.com:org/repo.git /vendor\nWORKDIR /src"),
      rule: "dockerfile.add-remote",
      line: 3,
    },
    {
      name: "ENV with a TOKEN",
      kind: "client",
      text: client("    HOST=0.0.0.0", "    HOST=0.0.0.0 \\\n    BACKEND_AUTH_TOKEN=abc"),
      rule: "dockerfile.secret-env",
      line: 14,
    },
    {
      name: "ARG DATABASE_URL",
      kind: "backend",
      text: backend("WORKDIR /src", "ARG DATABASE_URL\nWORKDIR /src"),
      rule: "dockerfile.secret-env",
      line: 3,
    },
    { name: "global ARG with a KEY", kind: "backend", text: `ARG NEON_API_KEY\n${BACKEND_OK}`, rule: "dockerfile.secret-env", line: 1 },
    {
      name: "legacy ENV form with a PASSWORD",
      kind: "client",
      text: client("USER node", "ENV PGPASSWORD hunter2\nUSER node"),
      rule: "dockerfile.secret-env",
      line: 16,
    },
    {
      name: "ENV SESSION_SECRET",
      kind: "client",
      text: client("USER node", "ENV SESSION_SECRET=x\nUSER node"),
      rule: "dockerfile.secret-env",
      line: 16,
    },
    { name: "COPY --from a typo", kind: "client", text: client("--from=build", "--from=biuld"), rule: "dockerfile.copy-from", line: 14 },
    {
      name: "COPY --from a later stage",
      kind: "client",
      text: client("COPY . .", "COPY --from=runtime /app /app"),
      rule: "dockerfile.copy-from",
      line: 5,
    },
    {
      name: "COPY --from its own stage index",
      kind: "client",
      text: client("--from=build", "--from=1"),
      rule: "dockerfile.copy-from",
      line: 14,
    },
    { name: "duplicate stage names", kind: "client", text: client("AS runtime", "AS build"), rule: "dockerfile.stage-name", line: 9 },
    {
      name: "COPY of a missing file",
      kind: "backend",
      text: backend("apps/backend/go.sum", "apps/backend/go.work"),
      rule: "dockerfile.copy-source",
      line: 4,
    },
    {
      name: "COPY from outside the context",
      kind: "backend",
      text: backend("COPY apps/backend/gen ./gen", "COPY ../secrets ./gen"),
      rule: "dockerfile.copy-source",
      line: 8,
    },
    {
      name: "COPY of a wildcard that matches nothing",
      kind: "backend",
      text: backend("apps/backend/go.sum", "apps/backend/*.lock"),
      rule: "dockerfile.copy-source",
      line: 4,
    },
    {
      name: "COPY of a folder the .dockerignore drops",
      kind: "backend",
      text: backend("COPY apps/backend/gen ./gen", "COPY logs ./gen"),
      rule: "dockerfile.copy-source",
      line: 8,
    },
    {
      name: "COPY of a file under an ignored folder",
      kind: "backend",
      text: backend("COPY apps/backend/gen ./gen", "COPY apps/backend/bin/backend ./gen"),
      rule: "dockerfile.copy-source",
      line: 8,
    },
    {
      name: "no GRPC_PROTO_ROOT",
      kind: "client",
      text: client("ENV GRPC_PROTO_ROOT=/app/proto \\\n    PORT", "ENV PORT"),
      rule: "dockerfile.client.proto-root",
      line: 9,
    },
    {
      name: "GRPC_PROTO_ROOT elsewhere",
      kind: "client",
      text: client("GRPC_PROTO_ROOT=/app/proto", "GRPC_PROTO_ROOT=/srv/proto"),
      rule: "dockerfile.client.proto-root",
      line: 11,
    },
    { name: "protos not copied", kind: "client", text: client("COPY proto/ /app/proto/\n", ""), rule: "dockerfile.client.proto", line: 9 },
    {
      name: "protos copied one level too high",
      kind: "client",
      text: client("COPY proto/ /app/proto/", "COPY proto /app/"),
      rule: "dockerfile.client.proto",
      line: 9,
    },
    {
      name: "Remix build not copied",
      kind: "client",
      text: client("COPY --from=build /repo/apps/client/build /app/build\n", ""),
      rule: "dockerfile.client.build",
      line: 9,
    },
    {
      name: "go build without CGO_ENABLED=0",
      kind: "backend",
      text: backend("RUN CGO_ENABLED=0 go build", "RUN go build"),
      rule: "dockerfile.backend.static",
      line: 9,
    },
    {
      name: "CGO_ENABLED=0 set in another stage only",
      kind: "backend",
      text: backend("RUN CGO_ENABLED=0 go build", "RUN go build").replace(
        "USER nonroot:nonroot",
        "USER nonroot:nonroot\nENV CGO_ENABLED=0",
      ),
      rule: "dockerfile.backend.static",
      line: 9,
    },
    {
      name: "no go build at all",
      kind: "backend",
      text: backend('RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/backend ./cmd/backend', "RUN echo nothing"),
      rule: "dockerfile.backend.static",
      line: 2,
    },
    {
      name: "backend bound to IPv4 only",
      kind: "backend",
      text: backend("GRPC_HOST=::", "GRPC_HOST=0.0.0.0"),
      rule: "dockerfile.backend.host",
      line: 14,
    },
  ];

  it.each(table)("$name → $rule", ({ kind, text, rule, line }) => {
    const r = fails(check(text, kind));
    expect(ids(r)).toEqual([rule]);
    expect(r[0]).toMatchObject({ where: `${D}:${line}` });
    expect(r.every((x) => x.fix !== undefined && x.fix.length > 0)).toBe(true);
  });

  it("names the closest stage for a --from typo", () => {
    expect(fails(check(client("--from=build", "--from=biuld"), "client"))[0]!.message).toBe(
      'COPY --from=biuld names no earlier stage (did you mean "build"?); Docker would try to pull an image called "biuld"',
    );
  });

  it("never prints the value of a secret-looking ENV", () => {
    const r = check(client("USER node", "ENV STRIPE_API_KEY=sk_live_PLACEHOLDER42\nUSER node"), "client");
    expect(JSON.stringify(r)).not.toContain("sk_live_PLACEHOLDER42");
    expect(fails(r)[0]!.message).toContain("ENV STRIPE_API_KEY looks like a secret");
  });

  it("a copied Remix build that is not from a stage fails twice: excluded from the context, and not a build stage output", () => {
    const r = fails(check(client("COPY --from=build /repo/apps/client/build /app/build", "COPY apps/client/build /app/build"), "client"));
    expect(ids(r)).toEqual(["dockerfile.client.build", "dockerfile.copy-source"]);
  });
});

describe("checkDockerfile: the context and its .dockerignore", () => {
  it("without a .dockerignore, COPY . . fails for .env files and warns for node_modules and .git", () => {
    const r = check(CLIENT_OK, "client", { dockerignorePath: join(ctxDir, "no-such.dockerignore") });
    expect(fails(r)).toEqual([
      {
        id: "dockerfile.dockerignore",
        status: "fail",
        message:
          "COPY . would copy .env, .env.production, .env.local, */.env, */.env.production, proto/.env, ... into the image when present: there is no .dockerignore",
        where: `${D}:5`,
        fix: 'add ".env*" and "**/.env*" to .dockerignore at the context root',
      },
    ]);
    expect(warns(r)).toEqual([
      {
        id: "dockerfile.dockerignore",
        status: "warn",
        message:
          "COPY . would send node_modules, */node_modules, .git into the build: host-installed modules slow the build and can break the install inside the image",
        where: `${D}:5`,
        fix: 'add "**/node_modules" and ".git" to .dockerignore at the context root',
      },
    ]);
  });

  it("a .dockerignore that drops only root .env files still fails for nested ones", () => {
    const path = writeTemp("x.dockerignore", ".env*\n**/node_modules\n.git\n");
    const r = fails(check(CLIENT_OK, "client", { dockerignorePath: path }));
    expect(r.map((x) => x.message)).toEqual([expect.stringContaining("*/.env, */.env.production, proto/.env")]);
  });

  it("a ! rule re-includes a file inside an ignored folder", () => {
    const path = writeTemp("x.dockerignore", `${DOCKERIGNORE}\n!apps/backend/bin/backend\n`);
    const text = BACKEND_OK.replace("COPY apps/backend/gen ./gen", "COPY apps/backend/bin/backend ./gen");
    expect(fails(check(text, "backend", { dockerignorePath: path }))).toEqual([]);
  });

  it("JSON-form COPY keeps spaces in names (the parser's own JSON strings drop them)", () => {
    const text = CLIENT_OK.replace("COPY proto/ /app/proto/", 'COPY ["proto/", "/app/proto/"]\nCOPY ["docs/my notes.md", "/app/notes.md"]');
    expect(fails(check(text, "client"))).toEqual([]);
  });

  it("wildcards are matched per path segment against the context", () => {
    const text = BACKEND_OK.replace("COPY apps/backend/go.mod apps/backend/go.sum ./", "COPY apps/backend/go.* ./");
    expect(fails(check(text, "backend"))).toEqual([]);
  });

  it("a leading / in a COPY source is relative to the context, as in Docker", () => {
    expect(fails(check(BACKEND_OK.replace("COPY apps/backend/gen", "COPY /apps/backend/gen"), "backend"))).toEqual([]);
  });

  it("a variable in a COPY source is a warning, not a guess", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile build-arg reference, not a JS template
    const r = check(BACKEND_OK.replace("COPY apps/backend/gen", "COPY ${SRC}/gen"), "backend");
    expect(fails(r)).toEqual([]);
    expect(warns(r)).toEqual([expect.objectContaining({ id: "dockerfile.copy-source", where: `${D}:8` })]);
  });
});

describe("checkDockerfile: parsing", () => {
  it("follows continuation lines, comments inside them and lowercase keywords; reports the first line", () => {
    const text = `from node:20-slim as build
workdir /repo
copy . .
run pnpm install \\
  # a comment line inside the continuation is dropped
  --frozen-lockfile

from node:20-slim as runtime
env GRPC_PROTO_ROOT=/app/proto
copy --from=build \\
     /repo/apps/client/build \\
     /app/build
copy proto/ /app/proto/
user root
cmd ["node", "/app/build/server.mjs"]
`;
    expect(fails(check(text, "client"))).toEqual([expect.objectContaining({ id: "dockerfile.user", where: `${D}:14` })]);
  });

  it("FROM flags and a stage built FROM an earlier stage inherit ENV and USER", () => {
    const text = `FROM --platform=$BUILDPLATFORM node:20-slim AS base
ENV GRPC_PROTO_ROOT=/app/proto
USER node

FROM base AS build
USER root
WORKDIR /repo
COPY . .
RUN pnpm --filter client build

FROM base AS runtime
WORKDIR /app
COPY --from=build /repo/apps/client/build ./build
COPY proto ./proto
CMD ["node", "build/server.mjs"]
`;
    expect(check(text, "client")).toEqual([
      expect.objectContaining({ id: "dockerfile.client", status: "pass", message: `${D}: 3 stages, final stage from base runs as node` }),
    ]);
  });

  it("an empty Dockerfile is a fail", () => {
    expect(check("\n  \n", "client")).toEqual([expect.objectContaining({ id: "dockerfile.read", status: "fail" })]);
  });

  it("shell-form CMD/ENTRYPOINT in the final stage is a warning (signals do not reach the app)", () => {
    const r = check(CLIENT_OK.replace('CMD ["node", "/app/build/server.mjs"]', "CMD node /app/build/server.mjs"), "client");
    expect(fails(r)).toEqual([]);
    expect(warns(r)).toEqual([expect.objectContaining({ id: "dockerfile.exec-form", where: `${D}:18` })]);
  });
});

describe("checkDockerfile: ports against the app's fly.toml", () => {
  const clientFly = (env: string) => writeTemp("client.fly.toml", `app = "web"\n[env]\n${env}\n[http_service]\n  internal_port = 3000\n`);
  const backendFly = (env: string, port = 50051) =>
    writeTemp(
      "backend.fly.toml",
      `app = "api"\n[env]\n${env}\n[checks.grpc]\n  type = "tcp"\n  port = ${port}\n  interval = "15s"\n  timeout = "2s"\n`,
    );

  it("client: the image's PORT must be the fly.toml internal_port when fly.toml does not set PORT", () => {
    const text = CLIENT_OK.replace("PORT=3000", "PORT=8080");
    const r = check(text, "client", { flyTomlPath: clientFly("") });
    expect(fails(r)).toEqual([
      expect.objectContaining({ id: "dockerfile.client.port", where: `${D}:12`, message: expect.stringContaining("internal_port = 3000") }),
    ]);
    expect(warns(r)).toEqual([
      expect.objectContaining({
        id: "dockerfile.client.port",
        message: "EXPOSE 3000 but the client listens on 8080: the image documents the wrong port",
      }),
    ]);
  });

  it("client: a PORT in fly.toml [env] wins over the image", () => {
    const text = CLIENT_OK.replace("PORT=3000", "PORT=8080").replace("EXPOSE 3000", "EXPOSE 3000 8080");
    expect(fails(check(text, "client", { flyTomlPath: clientFly('PORT = "3000"') }))).toEqual([]);
  });

  it("client: GRPC_PROTO_ROOT from fly.toml [env] must be /app/proto too", () => {
    const r = fails(check(CLIENT_OK, "client", { flyTomlPath: clientFly('GRPC_PROTO_ROOT = "/proto"') }));
    expect(r).toEqual([
      expect.objectContaining({
        id: "dockerfile.client.proto-root",
        where: expect.stringMatching(/client\.fly\.toml \[env\]\.GRPC_PROTO_ROOT$/),
      }),
    ]);
  });

  it("backend: the gRPC port must be the one the fly.toml tcp check watches", () => {
    const r = fails(check(BACKEND_OK.replace("GRPC_PORT=50051", "GRPC_PORT=9000"), "backend", { flyTomlPath: backendFly("") }));
    expect(r).toEqual([expect.objectContaining({ id: "dockerfile.backend.port", where: `${D}:14` })]);
  });

  it("backend: fly.toml [env] GRPC_PORT/GRPC_HOST win over the image", () => {
    const text = BACKEND_OK.replace("GRPC_HOST=::", "GRPC_HOST=0.0.0.0").replace("GRPC_PORT=50051", "GRPC_PORT=9000");
    const r = check(text, "backend", { flyTomlPath: backendFly('GRPC_HOST = "::"\nGRPC_PORT = "50051"') });
    expect(fails(r)).toEqual([]);
  });

  it("backend: EXPOSE of another port is a warning", () => {
    const r = check(BACKEND_OK.replace("EXPOSE 50051", "EXPOSE 8080"), "backend");
    expect(fails(r)).toEqual([]);
    expect(warns(r)).toEqual([expect.objectContaining({ id: "dockerfile.backend.port", where: `${D}:15` })]);
  });

  it("an unreadable fly.toml is a warning and the rest still runs", () => {
    const r = check(CLIENT_OK, "client", { flyTomlPath: writeTemp("bad.fly.toml", "app = \n") });
    expect(fails(r)).toEqual([]);
    expect(warns(r)).toEqual([expect.objectContaining({ id: "dockerfile.fly-toml" })]);
  });
});

describe("isSecretName", () => {
  it.each([
    "API_KEY",
    "NEON_API_KEY",
    "APIKEY",
    "BACKEND_AUTH_TOKEN",
    "GITHUB_TOKEN",
    "AUTHTOKEN",
    "SESSION_SECRET",
    "CLIENT_SECRETS",
    "PGPASSWORD",
    "DB_PASSWORD",
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "aws_secret_access_key",
  ])("%s is a secret name", (name) => {
    expect(isSecretName(name)).toBe(true);
  });
  it.each(["GRPC_PROTO_ROOT", "PORT", "HOST", "NODE_ENV", "GO_VERSION", "CGO_ENABLED", "KEYBOARD_LAYOUT", "MONKEY", "PATH", "PWD"])(
    "%s is not",
    (name) => {
      expect(isSecretName(name)).toBe(false);
    },
  );
});
