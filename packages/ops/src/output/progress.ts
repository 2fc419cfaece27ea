/**
 * The one updating line a terminal shows during a long wait (a remote build, a health wait, the
 * smoke deadline, the deploy lock, a Neon operation): a spinner, what is awaited and the time
 * elapsed, redrawn in place with a carriage return and an erase-line. Only on a terminal: without
 * one, in CI and with `--json` nothing of this is written and the output stays line by line.
 *
 * Written here rather than with a spinner package: the small ones decide "is a TTY" from fd 1 at
 * import time (so a test cannot hand them a fake terminal) and install their own SIGINT handler
 * that exits the process, which would skip the interrupt cleanups of `runOps`.
 */

/** The part of a terminal stream the live line needs (`process.stdout` is one). */
export interface LiveStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** A wait shown while it lasts. `end` removes it; calling it twice is harmless. */
export interface ProgressHandle {
  /** Changes what the line says is awaited. */
  update(label: string): void;
  end(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Carriage return, then erase the whole line: the line is redrawn from its start. */
export const CLEAR_LINE = "\r\x1b[2K";
const TICK_MS = 100;

/** `7s`, `1m05s`, `1h02m`: short enough for the end of a line. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * The live line of one terminal. `writeLine` prints an ordinary output line above it (the live
 * line is erased first and redrawn after); `progress` starts a wait. Waits nest: the newest one is
 * shown, and when it ends the one it interrupted shows again.
 */
export class LiveLine {
  private readonly active: { label: string; startedAt: number }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private frame = 0;
  private shown = false;

  constructor(
    private readonly stream: LiveStream,
    private readonly redact: (text: string) => string,
  ) {}

  /** Prints a whole line (already redacted), keeping the live line below it. */
  writeLine(line: string): void {
    this.erase();
    this.stream.write(`${line}\n`);
    this.render();
  }

  /** Starts showing a wait; the first frame is drawn on the first tick, so a short wait shows nothing. */
  progress(label: string): ProgressHandle {
    const entry = { label, startedAt: Date.now() };
    this.active.push(entry);
    this.timer ??= setInterval(() => {
      this.frame = (this.frame + 1) % FRAMES.length;
      this.render();
    }, TICK_MS);
    this.timer.unref?.();
    let ended = false;
    return {
      update: (next) => {
        entry.label = next;
      },
      end: () => {
        if (ended) return;
        ended = true;
        this.active.splice(this.active.indexOf(entry), 1);
        this.erase();
        if (this.active.length === 0) this.stop();
        else this.render();
      },
    };
  }

  /** Ends every wait and erases the line (before the last lines of a step, and on errors). */
  endAll(): void {
    this.active.length = 0;
    this.erase();
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private erase(): void {
    if (!this.shown) return;
    this.stream.write(CLEAR_LINE);
    this.shown = false;
  }

  private render(): void {
    const top = this.active.at(-1);
    if (!top || this.timer === undefined) return;
    const elapsed = formatElapsed(Date.now() - top.startedAt);
    // A pseudo-terminal may report 0 columns: then assume 80.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const label = this.redact(top.label.replace(/\s+/g, " "));
    const room = width - elapsed.length - 5;
    const shown = label.length > room ? `${label.slice(0, Math.max(0, room - 1))}…` : label;
    // One terminal row only: a wrapped line could not be erased with a carriage return.
    this.stream.write(`${CLEAR_LINE}${FRAMES[this.frame]} ${shown} · ${elapsed}`);
    this.shown = true;
  }
}
