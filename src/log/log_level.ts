/**
 * The log levels, on their own so the configuration (and the sandbox step
 * that reads it) need not load the logger.
 *
 * @module
 */

/** How much the agent logs; `NONE` writes nothing. */
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR" | "NONE";

/** The log levels, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([
  "DEBUG",
  "INFO",
  "WARN",
  "ERROR",
  "NONE",
]);
