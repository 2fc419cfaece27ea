import type { OpsEvent } from "./events.ts";
import { formatHuman } from "./format-human.ts";

/** Replaces known secret values in text. Built from every secret a step knows. */
export interface Redact {
  redact(text: string): string;
}

export interface Reporter {
  emit(event: OpsEvent): void;
  /** Every event emitted so far (for reports and tests). */
  readonly events: readonly OpsEvent[];
}

export interface ReporterOptions {
  /** `--json`: one JSON object per line instead of text. */
  json: boolean;
  redactor: Redact;
  /** `OPS_VERBOSE=1`: human output also shows every command run (`cmd`/`cmd:end`). */
  verbose?: boolean;
  write?: (line: string) => void;
}

/**
 * The one place output is written. Every line passes through the redactor, JSON included, so a
 * secret value that slipped into a message is still replaced by `[REDACTED]`.
 */
export function createReporter(opts: ReporterOptions): Reporter {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events: OpsEvent[] = [];
  return {
    events,
    emit(event) {
      events.push(event);
      if (!opts.json && !opts.verbose && (event.kind === "cmd" || event.kind === "cmd:end")) return;
      const text = opts.json ? JSON.stringify(event) : formatHuman(event);
      if (text !== undefined) write(opts.redactor.redact(text));
    },
  };
}
