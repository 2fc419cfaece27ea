import { UsageError } from "../errors.ts";
import { didYouMean } from "../text/did-you-mean.ts";

/** The positional arguments a command declares (OpsCommand's `subcommands` / `arguments`). */
export interface ArgumentSpec {
  subcommands?: Readonly<Record<string, readonly string[]>>;
  arguments?: readonly string[];
}

/**
 * Checks the positional arguments against what the command declares, before anything runs (also
 * under --help, so `--help` answers whether a command line is one the CLI takes): a sub-command
 * must be one of `subcommands`, and no more arguments than it names may follow.
 * @param command the command's name as typed after `ops:` (`secrets`).
 * @throws {UsageError} naming the unknown sub-command (with "did you mean") or the extra argument.
 */
export function checkPositionals(command: string, spec: ArgumentSpec, positionals: readonly string[]): void {
  const subs = spec.subcommands ? Object.keys(spec.subcommands) : undefined;
  const [first, ...rest] = positionals;
  // Entry scripts without a root `ops:` script (deploy) share this, so the usage names no runner.
  const usage = (sub: string | undefined, names: readonly string[]) =>
    `${command}${sub ? ` ${sub}` : ""}${names.map((n) => ` <${n}>`).join("")}`;
  if (subs && first !== undefined && !subs.includes(first)) {
    throw new UsageError(`unknown ${command} command "${first}"${didYouMean(first, subs)}`, {
      fix: `Use one of: ${subs.map((s) => usage(s, spec.subcommands![s]!)).join(", ")}.`,
    });
  }
  const sub = subs && first !== undefined ? first : undefined;
  const names = sub ? spec.subcommands![sub]! : (spec.arguments ?? []);
  const given = sub ? rest : positionals;
  if (given.length > names.length) {
    throw new UsageError(`unexpected argument "${given[names.length]}"`, {
      fix: `Use \`${usage(sub, names)}\`${names.length === 0 ? " (no arguments)" : ""}; flags start with --. See --help.`,
    });
  }
}
