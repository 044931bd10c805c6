/**
 * One home for the text of failures: an error's first line, the strict
 * UTF-8 file read whose failures the callers describe, and the advice that
 * follows a refusal by the sandbox.
 *
 * @module
 */

/** The first line of an error's message (or of anything thrown), trimmed. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n", 1)[0].trim();
}

/**
 * Reads a file as UTF-8 text, refusing bad bytes with a `TypeError` where
 * `Deno.readTextFileSync` would replace them with U+FFFD silently.
 */
export function readUtf8File(path: string): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
    Deno.readFileSync(path),
  );
}

/** Why {@linkcode readUtf8File} failed, in a few words. */
export function readFailureReason(error: unknown): string {
  return error instanceof Deno.errors.NotFound
    ? "file not found"
    : error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : error instanceof Deno.errors.IsADirectory
    ? "it is a directory"
    : error instanceof TypeError
    ? "it is not UTF-8 text"
    : firstLine(error);
}

/**
 * What follows the flag that would grant a refused access: the grants are
 * computed from the configuration and environment when the agent starts, so
 * a refusal means the agent ran with other flags, or the deployment changed
 * since it started.
 */
export const GRANTS_COMPUTED_AT_START =
  "the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions";

/** The advice for a refused access: the flag that grants it, and how grants come about. */
export function grantHint(flag: string): string {
  return `${flag}; ${GRANTS_COMPUTED_AT_START}`;
}
