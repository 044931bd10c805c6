/**
 * The command line: `--config <file>` (`-c`), `--help` (`-h`), `--version`,
 * `--print-permissions` (the grants the deployment needs, as Deno flags).
 * Parsing is pure; `main.ts` prints and exits.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** What the command line asks the agent to do. */
export type CliCommand =
  | { readonly kind: "run"; readonly configPath: string | undefined }
  | {
    readonly kind: "permissions";
    readonly configPath: string | undefined;
    /** False when the rest of the line asks for help, the version or is an error: no grant is needed. */
    readonly agentRuns: boolean;
  }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string };

const OPTIONS = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** The usage line, printed with `--help` and after every command-line error. */
export function usage(program: string): string {
  return `Usage: ${program} [--config <file>]`;
}

/**
 * Reads the arguments in order, as the original agent does: the first
 * `--help`, `--version` or bad argument decides; the last `--config` wins.
 *
 * @example
 * ```ts
 * parseCli(["-c", "config.toml"]); // { kind: "run", configPath: "config.toml" }
 * parseCli(["--bogus"]); // { kind: "error", message: "Unknown option --bogus" }
 * ```
 */
export function parseCli(args: readonly string[]): CliCommand {
  // The start script asks for the grants with the agent's own arguments:
  // whatever they ask for, this run prints grants and nothing else.
  const flag = "--print-permissions";
  if (args.includes(flag)) {
    const command = parseAgentCommand(args.filter((arg) => arg !== flag));
    return command.kind === "run"
      ? { kind: "permissions", configPath: command.configPath, agentRuns: true }
      : { kind: "permissions", configPath: undefined, agentRuns: false };
  }
  return parseAgentCommand(args);
}

function parseAgentCommand(args: readonly string[]): CliCommand {
  // Non-strict tokens, because strict mode rejects the whole line up front
  // (so `--help --bogus` would not show help) with Node's own messages.
  const { tokens } = parseArgs({
    args: [...args],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let configPath: string | undefined;
  for (const token of tokens) {
    const arg = args[token.index];
    if (token.kind !== "option") return unknownOption(arg);
    switch (token.name) {
      case "config":
        if (token.value === undefined || token.value === "") {
          return { kind: "error", message: "Argument expected" };
        }
        configPath = token.value;
        break;
      case "help":
        if (token.value !== undefined) return unknownOption(arg);
        return { kind: "help" };
      case "version":
        if (token.value !== undefined) return unknownOption(arg);
        return { kind: "version" };
      default:
        return unknownOption(arg);
    }
  }
  return { kind: "run", configPath };
}

function unknownOption(arg: string): CliCommand {
  return { kind: "error", message: `Unknown option ${arg}` };
}
