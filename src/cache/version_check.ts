/**
 * The renewal rule: whether DescribeSecret's version map still backs a cached
 * GetSecretValue answer, so the value need not be fetched again.
 *
 * @module
 */

import type { SecretRequest, VersionStages } from "./secret_value.ts";

/** The stage Secrets Manager answers with when none is asked for. */
export const DEFAULT_STAGE = "AWSCURRENT";

/**
 * Whether a cached answer is still current: a requested version still exists
 * (and holds the requested stage, if one was asked for too), or else the
 * cached version still holds the requested stage (default AWSCURRENT).
 *
 * @example
 * ```ts
 * isStillCurrent({ v2: ["AWSCURRENT"], v1: ["AWSPREVIOUS"] }, { secretId: "db" }, "v1"); // false
 * ```
 */
export function isStillCurrent(
  stages: VersionStages,
  request: SecretRequest,
  cachedVersionId: string,
): boolean {
  if (typeof stages !== "object" || stages === null) return false;
  const versionId = request.versionId ?? cachedVersionId;
  // hasOwn: a version id such as "constructor" must not find Object's own.
  if (!Object.hasOwn(stages, versionId)) return false;
  if (request.versionId !== undefined && request.versionStage === undefined) {
    return true;
  }
  const labels = stages[versionId];
  return Array.isArray(labels) &&
    labels.includes(request.versionStage ?? DEFAULT_STAGE);
}
