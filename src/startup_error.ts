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

/**
 * What follows the flag that would grant a refused access: the grants are
 * computed from the configuration and environment when the agent starts, so
 * a refusal means the agent ran with other flags, or the deployment changed
 * since it started.
 */
const GRANTS_COMPUTED_AT_START =
  "the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions";

/** The advice for a refused access: the flag that grants it, and how grants come about. */
export function grantHint(flag: string): string {
  return `${flag}; ${GRANTS_COMPUTED_AT_START}`;
}

/**
 * One line for stderr. A permission the sandbox refused names what to grant
 * (Deno's message names the resource and the flag).
 */
export function describeStartupError(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `Permission denied by the sandbox: ${
      firstLine(error.message)
    } (${GRANTS_COMPUTED_AT_START})`;
  }
  if (error instanceof Error) return firstLine(error.message);
  return firstLine(String(error));
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0].trim();
}
