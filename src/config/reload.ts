/**
 * SIGHUP: the configuration file and the token read again, and what of them
 * the running agent takes: the token and the request checks, the connection
 * limit and the log level take effect at once; every other key keeps its
 * running value until a restart, and the reload names them.
 *
 * @module
 */

import { type Config, ConfigError, KEY_FIELDS, loadConfig } from "./config.ts";
import type { Logger } from "../log/logger.ts";
import { describeStartupError } from "../startup_error.ts";
import { resolveToken } from "../http/token.ts";

/** The fields a reload applies without a restart (see {@linkcode appliedConfig}). */
export const LIVE_FIELDS: ReadonlySet<keyof Config> = new Set([
  "logLevel",
  "ssrfHeaders",
  "ssrfEnvVariables",
  "pathPrefix",
  "maxConn",
]);

/**
 * The keys whose new value differs from the running one but needs a
 * restart, in the contract's order. A log level raised from `NONE` is one:
 * nothing was opened to write to.
 */
export function keysNeedingRestart(running: Config, next: Config): string[] {
  return KEY_FIELDS.filter(({ field }) => {
    if (isSame(running[field], next[field])) return false;
    if (field === "logLevel") return running.logLevel === "NONE";
    return !LIVE_FIELDS.has(field);
  }).map(({ key }) => key);
}

/**
 * The running configuration after a reload: the live fields from `next`,
 * the rest as they run now (a log level stays `NONE`).
 */
export function appliedConfig(running: Config, next: Config): Config {
  return Object.freeze({
    ...running,
    logLevel: running.logLevel === "NONE" ? "NONE" : next.logLevel,
    ssrfHeaders: next.ssrfHeaders,
    ssrfEnvVariables: next.ssrfEnvVariables,
    pathPrefix: next.pathPrefix,
    maxConn: next.maxConn,
  });
}

function isSame(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Reads the configuration file and the token again. A file or token that
 * cannot be used is logged and the running settings are kept; keys that
 * need a restart are named and keep their running values.
 */
export function reload(
  path: string | undefined,
  running: Config,
  log: Logger,
): { config: Config; token: string } | undefined {
  let next: Config;
  let token: string;
  try {
    next = loadConfig(path);
    token = resolveToken(next.ssrfEnvVariables);
  } catch (error) {
    log.error(
      `SIGHUP: reload refused, the running configuration is kept: ${
        error instanceof ConfigError
          ? error.message
          : describeStartupError(error)
      }`,
    );
    return undefined;
  }
  const restart = keysNeedingRestart(running, next);
  log.info(
    `SIGHUP: configuration${
      path === undefined ? "" : ` ${path}`
    } and token reloaded${
      restart.length === 0
        ? ""
        : `; needs a restart to change, kept as running: ${restart.join(", ")}`
    }`,
  );
  return { config: appliedConfig(running, next), token };
}
