import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BACKEND_OK, CLIENT_OK, D, DOCKERIGNORE, check, context, fails, warns, writeTemp, useBuildContext } from "./dockerfile-fixtures.ts";

useBuildContext();

describe("checkDockerfile: the context and its .dockerignore", () => {
  it("without a .dockerignore, COPY . . fails for .env files and warns for node_modules and .git", () => {
    const r = check(CLIENT_OK, "client", { dockerignorePath: join(context.dir, "no-such.dockerignore") });
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

  it("wildcards follow Go's filepath.Match: classes, ranges and negation work, a malformed pattern is refused by name (it used to throw)", () => {
    const ok = BACKEND_OK.replace("COPY apps/backend/go.mod apps/backend/go.sum ./", "COPY apps/backend/go.[ms][^a-n]? ./");
    expect(fails(check(ok, "backend"))).toEqual([]);
    const bad = BACKEND_OK.replace("COPY apps/backend/go.mod apps/backend/go.sum ./", "COPY apps/backend/go.[a- ./");
    expect(fails(check(bad, "backend"))).toEqual([
      {
        id: "dockerfile.copy-source",
        status: "fail",
        message:
          "COPY source apps/backend/go.[a- is not a valid pattern: Docker reads wildcards with Go's filepath.Match, which refuses it",
        where: `${D}:4`,
        fix: "close every [ ] class, give each range two ends, and end the pattern with something other than a lone \\",
      },
    ]);
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
