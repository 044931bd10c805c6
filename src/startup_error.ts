/**
 * Start-up failures as the one line on stderr the contract asks for.
 *
 * @module
 */

/** A start-up step that failed, with the line to print. */
export class StartupError extends Error {
  /** `message` is printed as is. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

const PERMISSION_HINT =
  'the "agent" permission set in deno.json does not grant it; add the missing entry there';

/**
 * One line for stderr. A permission the sandbox refused names what to grant
 * (Deno's message names the resource and the flag).
 */
export function describeStartupError(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `Permission denied by the sandbox: ${
      firstLine(error.message)
    } (${PERMISSION_HINT})`;
  }
  if (error instanceof Error) return firstLine(error.message);
  return firstLine(String(error));
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0].trim();
}
