import { inspect } from "node:util";

const REDACTED = "[REDACTED]";

/**
 * A secret value that cannot leak by accident: `toString`, `toJSON`, `util.inspect` and template
 * literals all give `[REDACTED]`. Read the real value only with `reveal()`, at the last moment
 * (stdin of a child process, a child's environment, a pg connection).
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The real value. Call it only where the value leaves through stdin, a child env or a socket. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}
