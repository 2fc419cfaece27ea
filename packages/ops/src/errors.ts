/**
 * The small set of errors an operation may throw. Every message a user can cause says what
 * failed, where, the value seen (never a secret) and the fix; `runOps` prints it without a stack.
 * Anything that is not an `OpsError` is a bug and is printed with its stack.
 */
export type OpsErrorCode =
  | "E_CONFIG"
  | "E_PREFLIGHT"
  | "E_SECRETS"
  | "E_MIGRATION"
  | "E_COMMAND"
  | "E_LOCK"
  | "E_DEPLOY"
  | "E_SMOKE"
  | "E_ROLLBACK"
  | "E_RUN_STATE"
  | "E_USAGE";

export interface OpsErrorDetails {
  /** Where the problem is: `file:line`, a config path, an app name, a key. */
  where?: string;
  /** The next action that fixes it, as a sentence or a command. */
  fix?: string;
  /** Process exit code for the CLI boundary. @default 1 */
  exitCode?: number;
  cause?: unknown;
}

export class OpsError extends Error {
  readonly code: OpsErrorCode;
  readonly where: string | undefined;
  readonly fix: string | undefined;
  readonly exitCode: number;

  constructor(code: OpsErrorCode, message: string, details: OpsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.where = details.where;
    this.fix = details.fix;
    this.exitCode = details.exitCode ?? 1;
  }
}

export class ConfigError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_CONFIG", message, details);
  }
}

export class PreflightError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_PREFLIGHT", message, details);
  }
}

export class SecretsError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_SECRETS", message, details);
  }
}

export class MigrationError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_MIGRATION", message, details);
  }
}

export class LockError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_LOCK", message, details);
  }
}

export class DeployError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_DEPLOY", message, details);
  }
}

export class SmokeCheckError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_SMOKE", message, details);
  }
}

export class RollbackError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_ROLLBACK", message, details);
  }
}

export class RunStateError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_RUN_STATE", message, details);
  }
}

/** The step was stopped by SIGINT/SIGTERM (Ctrl-C, a CI cancel): nothing is rolled back on the way out. */
export class InterruptedError extends OpsError {
  constructor(signal: string) {
    super("E_USAGE", `interrupted by ${signal}`, { fix: "Run the step again; `pnpm ops:status` shows what serves now." });
  }
}

export class UsageError extends OpsError {
  constructor(message: string, details: OpsErrorDetails = {}) {
    super("E_USAGE", message, { exitCode: 2, ...details });
  }
}

/** A failed external command (flyctl, go, git). `command` is already redacted. */
export class CommandFailedError extends OpsError {
  readonly command: string;
  readonly commandExitCode: number | null;
  constructor(message: string, command: string, commandExitCode: number | null, details: OpsErrorDetails = {}) {
    super("E_COMMAND", message, details);
    this.command = command;
    this.commandExitCode = commandExitCode;
  }
}
