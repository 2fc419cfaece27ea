/**
 * Waiting for a process that is not our child to exit, without polling.
 *
 * The local helpers (router, supervisors, the Postgres wrapper) are detached: the step that stops
 * one did not start it, so it cannot listen for the child's `exit` event. Instead each helper holds
 * a Linux abstract unix socket named after its pid ({@link holdExitSignal}); a waiter connects to it
 * and gets `close` when the process exits, because the kernel closes every socket of a process
 * that ends (also on SIGKILL and crashes). Abstract sockets have no file to clean up and vanish
 * with the process. Node opens sockets close-on-exec, so the app a supervisor spawns does not keep
 * its supervisor's socket open.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** The socket a process with this pid holds: `\0deploy-ops-exit-<pid>` (abstract namespace, Linux). */
export function exitSignalAddress(pid: number): string {
  return `\0deploy-ops-exit-${pid}`;
}

/**
 * Makes this process observable by {@link connectExitSignal}: listens on its pid's abstract socket
 * for the rest of its life. The server is unref'd, so it never keeps the process alive.
 * @returns the server, or undefined when the platform has no abstract sockets (then waiters fall
 *   back to checking the pid).
 */
export function holdExitSignal(): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.on("error", () => undefined);
      socket.unref();
    });
    server.once("error", () => resolve(undefined));
    server.listen(exitSignalAddress(process.pid), () => {
      server.unref();
      resolve(server);
    });
  });
}

/**
 * A connection to `pid`'s exit socket.
 * @returns `exited`, a promise that settles when the process exits (the socket closes), or
 *   `undefined` when nothing listens (the process is gone, or does not hold the socket).
 */
export function connectExitSignal(pid: number): Promise<{ exited: Promise<void>; socket: Socket } | undefined> {
  return new Promise((resolve) => {
    const socket = connect(exitSignalAddress(pid));
    socket.once("error", () => resolve(undefined));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      socket.on("error", () => undefined);
      socket.on("data", () => undefined); // nothing is sent; reading lets `close` arrive
      const exited = new Promise<void>((done) => socket.once("close", () => done()));
      resolve({ exited, socket });
    });
  });
}
