/**
 * The SSRF token: read once at start-up from the first configured
 * environment variable that is set (or the file it points to with
 * `file://`), then compared in constant time against request headers.
 *
 * @module
 */

import {
  firstLine,
  grantHint,
  readFailureReason,
  readUtf8File,
} from "../failure_text.ts";
import { fileURLToPath } from "node:url";

/** The SSRF token cannot be read; `message` is the line to print. */
export class TokenError extends Error {
  /** `message` is the exact user-facing line; it never holds the token. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TokenError";
  }
}

/** Options of {@linkcode resolveToken}. */
export interface ResolveTokenOptions {
  /** Reads an environment variable; may throw `Deno.errors.NotCapable`. Defaults to `Deno.env.get`. */
  readonly getEnv?: (name: string) => string | undefined;
  /** Reads a file as UTF-8 text; throws Deno's errors. Defaults to the disk, strictly decoded. */
  readonly readTextFile?: (path: string) => string;
}

const FILE_PREFIX = "file://";
// Characters a header value cannot hold (RFC 9110 field-value: no CTL but HTAB):
// a token holding one would start an agent no client can call.
// deno-lint-ignore no-control-regex
const HEADER_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * The SSRF token from the first variable of `envNames` that is set. A value
 * starting with `file://` names a file whose trimmed content is the token.
 * Throws {@linkcode TokenError} when no variable is set or the token is empty
 * or unreadable.
 *
 * @example
 * ```ts
 * const token = resolveToken(["AWS_TOKEN"], {
 *   getEnv: () => "file:///var/run/awssmatoken",
 *   readTextFile: () => "s3cr3t\n",
 * }); // "s3cr3t"
 * ```
 */
export function resolveToken(
  envNames: readonly string[],
  options: ResolveTokenOptions = {},
): string {
  const getEnv = options.getEnv ?? ((name: string) => Deno.env.get(name));
  for (const name of envNames) {
    const value = readVariable(name, getEnv);
    if (value === undefined) continue;
    if (value.startsWith(FILE_PREFIX)) {
      return readTokenFile(name, value, options.readTextFile ?? readUtf8File);
    }
    // A header value never carries outer whitespace, so neither may the token.
    const token = value.trim();
    if (token === "") {
      throw new TokenError(`The SSRF token variable ${name} is set but empty`);
    }
    if (HEADER_UNSAFE.test(token)) {
      throw new TokenError(
        `The SSRF token variable ${name} holds control characters, which no HTTP header can carry`,
      );
    }
    return token;
  }
  throw new TokenError(
    `Could not read SSRF token variable(s) [${
      envNames.join(", ")
    }]: environment variable not found`,
  );
}

function readVariable(
  name: string,
  getEnv: (name: string) => string | undefined,
): string | undefined {
  try {
    return getEnv(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new TokenError(
        `Permission denied by the sandbox: grant env access to ${name} (${
          grantHint(`--allow-env=${name}`)
        }) to read the SSRF token`,
        { cause: error },
      );
    }
    throw new TokenError(
      `Could not read SSRF token variable ${name}: ${firstLine(error)}`,
      { cause: error },
    );
  }
}

function readTokenFile(
  name: string,
  url: string,
  readTextFile: (path: string) => string,
): string {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new TokenError(
      `The SSRF token variable ${name} holds an invalid file URL ${url}: ${
        firstLine(error)
      }`,
      { cause: error },
    );
  }
  let token: string;
  try {
    token = readTextFile(path).trim();
  } catch (error) {
    throw new TokenError(describeReadError(name, path, error), {
      cause: error,
    });
  }
  if (token === "") {
    throw new TokenError(
      `The SSRF token file ${path} named by ${name} is empty`,
    );
  }
  if (HEADER_UNSAFE.test(token)) {
    throw new TokenError(
      `The SSRF token file ${path} named by ${name} holds control characters (a binary file?), which no HTTP header can carry`,
    );
  }
  return token;
}

function describeReadError(name: string, path: string, error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `Permission denied by the sandbox: grant read access to ${path} (${
      grantHint(`--allow-read=${path}`)
    }) to read the SSRF token file named by ${name}`;
  }
  return `Could not read SSRF token file ${path} named by ${name}: ${
    readFailureReason(error)
  }`;
}

/**
 * A check that accepts headers when any header named in `headerNames`
 * (names case-insensitive) equals `token` exactly, compared in constant time.
 * Throws {@linkcode TokenError} for an empty token or an invalid header name.
 *
 * @example
 * ```ts
 * const isAuthorized = createTokenCheck("s3cr3t", ["X-Aws-Parameters-Secrets-Token"]);
 * isAuthorized(new Headers({ "x-aws-parameters-secrets-token": "s3cr3t" })); // true
 * ```
 */
export function createTokenCheck(
  token: string,
  headerNames: readonly string[],
): (headers: Headers) => boolean {
  if (token === "") throw new TokenError("The SSRF token is empty");
  const probe = new Headers();
  for (const name of headerNames) {
    try {
      probe.get(name); // Headers.get throws on a name it cannot hold
    } catch (error) {
      throw new TokenError(
        `Invalid SSRF header name ${JSON.stringify(name)}`,
        { cause: error },
      );
    }
  }
  const names = [...headerNames];
  // Header values hold the wire's bytes one per character (latin1), so the
  // token is compared as its UTF-8 bytes: a non-ASCII token matches when the
  // client sends those bytes.
  const expected = new TextEncoder().encode(token);
  return (headers) => {
    for (const name of names) {
      const value = headers.get(name);
      if (value !== null && isSameInConstantTime(value, expected)) return true;
    }
    return false;
  };
}

/**
 * Compares every byte of the token whatever the input, so the time taken
 * depends on the token's length alone, never on how much of it was guessed.
 */
function isSameInConstantTime(value: string, expected: Uint8Array): boolean {
  let difference = value.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    // Past the end of `value`, charCodeAt gives NaN, which `^` reads as 0.
    difference |= value.charCodeAt(i) ^ expected[i];
  }
  return difference === 0;
}
