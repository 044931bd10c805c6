/**
 * What a SIGHUP reload may change in the running agent: the token and the
 * request checks, the connection limit and the log level take effect at
 * once; every other key keeps its running value until a restart, and the
 * reload names them.
 *
 * @module
 */

import { type Config, KEY_FIELDS } from "./config.ts";

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
