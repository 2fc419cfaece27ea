import type { Writable } from "node:stream";

/**
 * When the reader of `stream` goes away (`pnpm ops:status | head -3`), node reports the next write
 * as an EPIPE `error` event, and with no listener the process dies with a stack trace, possibly
 * halfway through a step. Here the command runs on to its own end and exit code, writing nothing
 * more, and `onClosed` is called once (a command that only streams, `ops:logs --follow`, stops
 * there). Any other error of the stream is rethrown, as before.
 */
export function continueWhenOutputCloses(stream: Writable, onClosed: () => void): void {
  let closed = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE" && !(closed && err.code === "ERR_STREAM_DESTROYED")) throw err;
    if (closed) return;
    closed = true;
    onClosed();
  });
}
