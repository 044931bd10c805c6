/**
 * Secrets as the cache takes them: each GetSecretValue answer turned into
 * its response body once, keyed as requested, and renewed through
 * DescribeSecret, one call in flight per secret id (and role) shared by
 * every key of it (a name with and without a versionStage, say).
 *
 * @module
 */

import type { CacheSource } from "../cache/cache.ts";
import {
  type SecretRequest,
  type SecretsSource,
  toResponseBody,
  type VersionStages,
} from "../cache/secret_value.ts";
import { SingleFlight } from "../cache/single_flight.ts";
import { isStillCurrent } from "../cache/version_check.ts";

/** The cache's view of a Secrets Manager client (or a fake). */
export function secretsCacheSource(
  source: SecretsSource,
): CacheSource<SecretRequest> {
  const describes = new SingleFlight<VersionStages, "describe">();
  return {
    keyOf: secretKey,
    async fetch(request) {
      const value = await source.getSecretValue(toRequest(request));
      return { versionId: value.versionId, body: toResponseBody(value) };
    },
    async isCurrent(request, versionId) {
      const id = request.roleArn === undefined
        ? request.secretId
        : JSON.stringify([request.secretId, request.roleArn]);
      const stages = await (describes.find(id)?.promise ??
        describes.start(
          id,
          "describe",
          () => source.describeSecret(request.secretId, request.roleArn),
        ));
      return isStillCurrent(stages, request, versionId);
    },
  };
}

/** The key as requested: unset and empty fields stay distinct; a role is its own space. */
function secretKey(request: SecretRequest): string {
  const fields = [
    request.secretId,
    request.versionId ?? null,
    request.versionStage ?? null,
  ];
  if (request.roleArn !== undefined) fields.push(request.roleArn);
  return JSON.stringify(fields);
}

/** Only the request fields, only those set: what GetSecretValue is asked. */
function toRequest(request: SecretRequest): SecretRequest {
  const copy: { -readonly [K in keyof SecretRequest]: SecretRequest[K] } = {
    secretId: request.secretId,
  };
  if (request.versionId !== undefined) copy.versionId = request.versionId;
  if (request.versionStage !== undefined) {
    copy.versionStage = request.versionStage;
  }
  if (request.roleArn !== undefined) copy.roleArn = request.roleArn;
  return copy;
}
