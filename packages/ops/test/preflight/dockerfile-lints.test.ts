import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDockerfile, isSecretName } from "../../src/preflight/dockerfile-checks.ts";
import { BACKEND_OK, CLIENT_OK, D, check, context, fails, ids, warns, writeTemp, useBuildContext } from "./dockerfile-fixtures.ts";
import { CONTRACTS } from "./contracts.ts";

useBuildContext();

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
    mkdirSync(join(context.dir, "apps/client"), { recursive: true });
    writeFileSync(join(context.dir, "apps/client/Dockerfile"), CLIENT_OK);
    const r = checkDockerfile(join(context.dir, "apps/client/Dockerfile"), { contextDir: context.dir, contract: CONTRACTS.client });
    expect(r).toEqual([expect.objectContaining({ id: "dockerfile.client", status: "pass", where: "apps/client/Dockerfile" })]);
  });

  it("an unreadable Dockerfile is one fail, not a throw", () => {
    expect(checkDockerfile(join(context.dir, "nope/Dockerfile"), { contextDir: context.dir, contract: CONTRACTS.client })).toEqual([
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
    const r = checkDockerfile(path, { contextDir: context.dir, contract: CONTRACTS.client });
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
