import type { OpsEvent } from "./events.ts";
import { formatHuman } from "./format-human.ts";
import { LiveLine, type LiveStream, type ProgressHandle } from "./progress.ts";

/** Replaces known secret values in text. Built from every secret a step knows. */
export interface Redact {
  redact(text: string): string;
}

export interface Reporter {
  emit(event: OpsEvent): void;
  /** Every event emitted so far (for reports and tests). */
  readonly events: readonly OpsEvent[];
  /**
   * Shows a long wait (`label`: what is awaited) as one updating line with the time elapsed, on a
   * terminal only; otherwise it writes nothing. End the handle when the wait is over (`finally`).
   */
  progress(label: string): ProgressHandle;
}

export interface ReporterOptions {
  /** `--json`: one JSON object per line instead of text. */
  json: boolean;
  redactor: Redact;
  /** `OPS_VERBOSE=1`: human output also shows every command run (`cmd`/`cmd:end`). */
  verbose?: boolean;
  write?: (line: string) => void;
  /**
   * The terminal for progress lines (`process.stdout`). Used only when it is a TTY, not `--json`
   * and not `ci`; output lines then go to it too, so the two never mix.
   */
  live?: LiveStream;
  /** `CI` is set: no progress line even on a terminal. */
  ci?: boolean;
}

/**
 * The one place output is written. Every line passes through the redactor, JSON included, so a
 * secret value that slipped into a message is still replaced by `[REDACTED]`.
 */
export function createReporter(opts: ReporterOptions): Reporter {
  const live = !opts.json && !opts.ci && opts.live?.isTTY ? new LiveLine(opts.live, (t) => opts.redactor.redact(t)) : undefined;
  const write = live ? (line: string) => live.writeLine(line) : (opts.write ?? ((line: string) => process.stdout.write(`${line}\n`)));
  const events: OpsEvent[] = [];
  const quiet: ProgressHandle = { update: () => undefined, end: () => undefined };
  return {
    events,
    emit(event) {
      events.push(event);
      // The last lines of a step (and its errors) stand alone: no wait outlives them.
      if (event.kind === "error" || event.kind === "step:end") live?.endAll();
      if (!opts.json && !opts.verbose && (event.kind === "cmd" || event.kind === "cmd:end")) return;
      const text = opts.json ? JSON.stringify(event) : formatHuman(event);
      if (text !== undefined) write(opts.redactor.redact(text));
    },
    progress: (label) => live?.progress(label) ?? quiet,
  };
}
