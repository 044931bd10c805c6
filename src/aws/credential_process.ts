/**
 * Credentials from a profile's `credential_process`, run as a program with
 * its arguments and no shell. The SDK's own provider runs the line through
 * `/bin/sh` with the agent's whole environment, which would need a grant to
 * run any program and to read every variable: the sandbox grants exactly
 * this one program instead (see `sandbox/grants.ts`). The output format is
 * the SDK's: `Version` 1, `AccessKeyId`, `SecretAccessKey`, optional
 * `SessionToken` and `Expiration`.
 *
 * @module
 */

import { firstLine } from "../failure_text.ts";
import type { Credentials } from "./credentials.ts";

/** A `credential_process` that cannot be run or whose output is not credentials. */
export class CredentialProcessError extends Error {
  /** `message` names the profile and what went wrong, never a secret. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CredentialProcessError";
  }
}

/**
 * Splits a command line into words as a POSIX shell would, quotes and
 * backslashes included, without expanding anything. Throws on an open quote.
 *
 * @example
 * ```ts
 * splitCommandLine(`/opt/bin/creds --profile "my app"`); // ["/opt/bin/creds", "--profile", "my app"]
 * ```
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
      continue;
    }
    if (char === "\\" && index + 1 < line.length) {
      const next = line[index + 1];
      // Inside double quotes a backslash escapes only these.
      if (quote === '"' && !'"\\$`'.includes(next)) {
        word = (word ?? "") + char;
        continue;
      }
      word = (word ?? "") + next;
      index++;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else word += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote !== undefined) {
    throw new CredentialProcessError(
      "unterminated quote in credential_process",
    );
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Options of {@linkcode createCredentialProcessProvider}. */
export interface CredentialProcessOptions {
  /** The profile named in messages. */
  readonly profile: string;
  /** Runs the program; defaults to `Deno.Command`. */
  readonly run?: (program: string, args: readonly string[]) => Promise<{
    readonly code: number;
    readonly stdout: Uint8Array;
  }>;
  /** The current time, for expiry checks; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Parses the program's output into credentials, or says what is wrong. */
export function parseCredentialProcessOutput(
  text: string,
  profile: string,
  now: number,
): Credentials {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CredentialProcessError(
      `credential_process of profile ${profile} did not print JSON`,
    );
  }
  const record = typeof data === "object" && data !== null
    ? data as Record<string, unknown>
    : {};
  if (record.Version !== 1) {
    throw new CredentialProcessError(
      `credential_process of profile ${profile} printed Version ${
        JSON.stringify(record.Version)
      }; only Version 1 is supported`,
    );
  }
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = record;
  if (
    typeof AccessKeyId !== "string" || AccessKeyId === "" ||
    typeof SecretAccessKey !== "string" || SecretAccessKey === ""
  ) {
    throw new CredentialProcessError(
      `credential_process of profile ${profile} printed no AccessKeyId and SecretAccessKey`,
    );
  }
  let expiration: Date | undefined;
  if (Expiration !== undefined) {
    expiration = new Date(String(Expiration));
    if (Number.isNaN(expiration.getTime())) {
      throw new CredentialProcessError(
        `credential_process of profile ${profile} printed an Expiration that is not a date`,
      );
    }
    if (expiration.getTime() <= now) {
      throw new CredentialProcessError(
        `credential_process of profile ${profile} printed expired credentials`,
      );
    }
  }
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    ...(typeof SessionToken === "string" && SessionToken !== ""
      ? { sessionToken: SessionToken }
      : {}),
    ...(expiration === undefined ? {} : { expiration }),
  };
}

async function runProgram(program: string, args: readonly string[]) {
  const { code, stdout } = await new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return { code, stdout };
}

/**
 * A credentials provider that runs `command` (program and arguments) each
 * time the SDK asks, which it does again once the credentials expire.
 */
export function createCredentialProcessProvider(
  command: readonly string[],
  options: CredentialProcessOptions,
): () => Promise<Credentials> {
  const run = options.run ?? runProgram;
  const now = options.now ?? Date.now;
  const [program, ...args] = command;
  return async () => {
    let result;
    try {
      result = await run(program, args);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new CredentialProcessError(
        `credential_process of profile ${options.profile} could not be run: ${
          firstLine(error)
        }`,
        { cause: error },
      );
    }
    if (result.code !== 0) {
      throw new CredentialProcessError(
        `credential_process of profile ${options.profile} exited with code ${result.code}`,
      );
    }
    return parseCredentialProcessOutput(
      new TextDecoder().decode(result.stdout),
      options.profile,
      now(),
    );
  };
}
