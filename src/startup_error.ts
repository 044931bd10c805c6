/**
 * Start-up failures as the one line on stderr the contract asks for.
 *
 * @module
 */

import { firstLine, GRANTS_COMPUTED_AT_START } from "./failure_text.ts";

/** A start-up step that failed, with the line to print. */
export class StartupError extends Error {
  /** `message` is printed as is. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

/**
 * One line for stderr. A permission the sandbox refused names what to grant
 * (Deno's message names the resource and the flag).
 */
export function describeStartupError(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `Permission denied by the sandbox: ${
      firstLine(error)
    } (${GRANTS_COMPUTED_AT_START})`;
  }
  return firstLine(error);
}
