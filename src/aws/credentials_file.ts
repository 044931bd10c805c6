/**
 * Credentials from a standard AWS credentials file (`credentials_file_path`),
 * re-read whenever the file changes, with the last good credentials kept when
 * it goes missing or bad.
 *
 * The file is parsed here, in a few lines: the SDK's INI parser is not
 * exported on its own (only behind loaders that read `~/.aws` and swallow a
 * missing or bad file, which this module must tell apart), and
 * `@aws-sdk/credential-providers` was dropped for that reason: its file
 * provider reads the shared files, not an arbitrary path re-read on change.
 *
 * @module
 */

import type { Credentials } from "./credentials.ts";
import { grantHint } from "../failure_text.ts";

/** The outcome of reading one profile out of a credentials file. */
export type ParsedCredentials =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly problem: string };

/** Reads `[profile]` sections of `key = value` lines, as the AWS CLI writes them. */
export function parseCredentialsFile(
  text: string,
  profile: string,
): ParsedCredentials {
  const values = new Map<string, string>();
  let section: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const pair = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (pair && section === profile) {
      values.set(pair[1].toLowerCase(), pair[2].trim());
    }
  }
  const accessKeyId = values.get("aws_access_key_id");
  const secretAccessKey = values.get("aws_secret_access_key");
  if (!accessKeyId || !secretAccessKey) {
    return {
      ok: false,
      problem:
        `profile [${profile}] has no aws_access_key_id and aws_secret_access_key`,
    };
  }
  const sessionToken = values.get("aws_session_token");
  return {
    ok: true,
    credentials: {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
    },
  };
}

/** Where warnings about the file go. */
export interface CredentialsFileLog {
  info(message: string): void;
  warn(message: string): void;
  /** When present, told each secret read from the file, so no line can hold it. */
  addRedaction?(value: string): void;
}

/** The file system calls the provider makes, replaceable in tests. */
export interface CredentialsFileSystem {
  stat(path: string): Promise<Deno.FileInfo>;
  readTextFile(path: string): Promise<string>;
}

/** Options of {@linkcode createCredentialsFileProvider}. */
export interface CredentialsFileOptions {
  /** The profile to read; `default` unless AWS_PROFILE says otherwise. */
  readonly profile?: string;
  /**
   * Accept only temporary credentials (with `aws_session_token`), as IAM
   * Roles Anywhere style delivery writes them; long-term keys are refused.
   */
  readonly temporaryOnly?: boolean;
  readonly log: CredentialsFileLog;
  readonly fs?: CredentialsFileSystem;
  readonly now?: () => number;
}

/** Raised when the file has never held usable credentials. */
export class CredentialsFileError extends Error {
  /** One line that names the file and what is wrong with it. */
  constructor(message: string) {
    super(message);
    this.name = "CredentialsFileError";
  }
}

/**
 * Raised when the file has only ever held long-term keys and
 * `temporaryOnly` refuses them; its message is safe to answer with.
 */
export class LongTermKeysRefusedError extends CredentialsFileError {
  /** One line that names the file and the option that refuses its keys. */
  constructor(message: string) {
    super(message);
    this.name = "LongTermKeysRefusedError";
  }
}

/** The SDK asks again when credentials expire within five minutes; this makes it ask every call. */
const ASK_AGAIN_MS = 60_000;

/** Far above any real credentials file; a bigger one is not read into memory. */
export const MAX_CREDENTIALS_FILE_BYTES = 1024 * 1024;

/**
 * A credential provider for the SDK: stats the file on each call, re-reads it
 * when its size, times, mode or inode changed, warns when its mode is wider
 * than 0600, and keeps serving the last good credentials through any problem.
 */
export function createCredentialsFileProvider(
  path: string,
  options: CredentialsFileOptions,
): () => Promise<Credentials> {
  const fs = options.fs ?? Deno;
  const now = options.now ?? Date.now;
  const profile = options.profile ?? "default";
  let lastGood: Credentials | undefined;
  let seen: string | undefined;
  let lastProblem: string | undefined;
  let isRefusal = false;

  const report = (problem: string, refusal = false) => {
    if (problem !== lastProblem) {
      options.log.warn(`Credentials file ${path}: ${problem}`);
    }
    lastProblem = problem;
    isRefusal = refusal;
  };

  const refresh = async () => {
    let info: Deno.FileInfo;
    try {
      info = await fs.stat(path);
    } catch (error) {
      report(fileProblem(error));
      return;
    }
    // ctime and mode too: a chmod, or a rewrite that kept size and mtime
    // (`cp -p`, a coarse clock), changes nothing else.
    const signature = [
      info.ino,
      info.size,
      info.mtime?.getTime(),
      info.ctime?.getTime(),
      info.mode,
    ].join(":");
    if (signature === seen) return;
    seen = signature;
    // A directory, FIFO or device: reading a FIFO would block every request.
    if (!info.isFile) {
      report(
        info.isDirectory
          ? "it is a directory, not a file"
          : "it is not a regular file",
      );
      return;
    }
    if (info.size > MAX_CREDENTIALS_FILE_BYTES) {
      report(
        `it is larger than ${MAX_CREDENTIALS_FILE_BYTES} bytes (${info.size})`,
      );
      return;
    }
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      options.log.warn(
        `Credentials file ${path} has mode 0${
          (info.mode & 0o777).toString(8)
        }; restrict it to 0600`,
      );
    }
    let text: string;
    try {
      text = await fs.readTextFile(path);
    } catch (error) {
      seen = undefined;
      report(fileProblem(error));
      return;
    }
    const parsed = parseCredentialsFile(text, profile);
    if (!parsed.ok) {
      report(parsed.problem);
      return;
    }
    const { secretAccessKey, sessionToken } = parsed.credentials;
    if (options.temporaryOnly && sessionToken === undefined) {
      report(
        `profile [${profile}] holds long-term keys (no aws_session_token), refused: credentials_file_temporary_only accepts only temporary credentials`,
        true,
      );
      return;
    }
    for (const secret of [secretAccessKey, sessionToken]) {
      if (secret !== undefined) options.log.addRedaction?.(secret);
    }
    if (lastGood !== undefined) {
      options.log.info(`Credentials file ${path} reloaded`);
    }
    lastGood = parsed.credentials;
    lastProblem = undefined;
    isRefusal = false;
  };

  return async () => {
    await refresh();
    if (lastGood === undefined) {
      const message = `No usable credentials in ${path}: ${
        lastProblem ?? "not read yet"
      }`;
      throw isRefusal
        ? new LongTermKeysRefusedError(message)
        : new CredentialsFileError(message);
    }
    return { ...lastGood, expiration: new Date(now() + ASK_AGAIN_MS) };
  };
}

function fileProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "the file does not exist";
  if (error instanceof Deno.errors.PermissionDenied) {
    return "the file cannot be read (permission denied)";
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return "it is a directory, not a file";
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `the sandbox does not grant reading it (${
      grantHint("--allow-read of the file")
    })`;
  }
  return error instanceof Error ? error.message : String(error);
}
