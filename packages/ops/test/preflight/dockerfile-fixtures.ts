// The build context and Dockerfiles the Dockerfile check tests share: a small context shaped like
// this repository, the two apps' good Dockerfiles, and helpers to run the checks on text.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { checkDockerfileText, type DockerfileCheckOptions } from "../../src/preflight/dockerfile-checks.ts";
import type { CheckResult } from "../../src/preflight/types.ts";
import { CONTRACTS } from "./contracts.ts";

export const fails = (r: CheckResult[]) => r.filter((x) => x.status === "fail");
export const warns = (r: CheckResult[]) => r.filter((x) => x.status === "warn");
export const ids = (r: CheckResult[]) => [...new Set(r.map((x) => x.id))].sort();

export const DOCKERIGNORE = [
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

/** The build context folder of the running test file (set by {@link useBuildContext}). */
export const context = { dir: "" };

/** Creates the build context before the file's tests and removes it after them. */
export function useBuildContext(): void {
  beforeAll(() => {
    context.dir = mkdtempSync(join(tmpdir(), "dockerfile-checks-"));
    for (const [path, text] of Object.entries(CONTEXT_FILES)) {
      mkdirSync(dirname(join(context.dir, path)), { recursive: true });
      writeFileSync(join(context.dir, path), text);
    }
  });
  afterAll(() => rmSync(context.dir, { recursive: true, force: true }));
}

export const CLIENT_OK = `# syntax=docker/dockerfile:1
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

export const BACKEND_OK = `ARG GO_VERSION=1.24
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

export const D = "apps/x/Dockerfile";
export const check = (text: string, kind: keyof typeof CONTRACTS, extra: Partial<DockerfileCheckOptions> = {}) =>
  checkDockerfileText(text, D, {
    contextDir: context.dir,
    contract: CONTRACTS[kind],
    dockerignorePath: join(context.dir, ".dockerignore"),
    ...extra,
  });

/** Writes a file into a fresh folder of the context and returns its path. */
export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(context.dir, "tmp-"));
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}
