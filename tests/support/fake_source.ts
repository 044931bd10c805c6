/**
 * An in-memory `SecretsSource` for cache tests: secrets with versions and
 * staging labels, call counters, injected failures, and calls held open until
 * the test releases them (no timers).
 *
 * @module
 */

import { UpstreamError, type UpstreamFailure } from "../../src/errors.ts";
import type {
  SecretRequest,
  SecretsSource,
  SecretValue,
  VersionStages,
} from "../../src/cache/secret_value.ts";

/** The two Secrets Manager operations the cache uses. */
export type Operation = "getSecretValue" | "describeSecret";

interface FakeVersion {
  readonly secretString: string;
  readonly createdDateMs: number;
  readonly stages: Set<string>;
}

interface FakeSecret {
  readonly name: string;
  readonly arn: string;
  readonly versions: Map<string, FakeVersion>;
}

/** Secrets Manager's answer for a secret or version it does not have. */
export const NOT_FOUND: UpstreamFailure = {
  kind: "service",
  status: 400,
  code: "ResourceNotFoundException",
  message: "Secrets Manager can't find the specified secret.",
};

/** A fake Secrets Manager holding secrets by name, also found by ARN. */
export class FakeSource implements SecretsSource {
  /** How many times each operation was called. */
  readonly calls: Record<Operation, number> = {
    getSecretValue: 0,
    describeSecret: 0,
  };
  /** Every GetSecretValue request, as received. */
  readonly requests: SecretRequest[] = [];
  readonly #secrets = new Map<string, FakeSecret>();
  readonly #failures = new Map<Operation, UpstreamFailure | Error>();
  readonly #holds = new Map<Operation, Promise<void>>();
  #versionCount = 0;

  /** Stores a new version as AWSCURRENT (the old one becomes AWSPREVIOUS); returns its id. */
  put(name: string, secretString: string): string {
    let secret = this.#secrets.get(name);
    if (secret === undefined) {
      secret = { name, arn: arnOf(name), versions: new Map() };
      this.#secrets.set(name, secret);
    }
    const versionId = `v${++this.#versionCount}`;
    secret.versions.set(versionId, {
      secretString,
      createdDateMs: 1_700_000_000_000 + this.#versionCount,
      stages: new Set(),
    });
    const current = this.#holder(secret, "AWSCURRENT");
    if (current !== undefined) this.label(name, "AWSPREVIOUS", current);
    this.label(name, "AWSCURRENT", versionId);
    return versionId;
  }

  /** Moves `stage` onto `versionId`, as UpdateSecretVersionStage does. */
  label(name: string, stage: string, versionId: string): void {
    const secret = this.#require(name);
    for (const version of secret.versions.values()) {
      version.stages.delete(stage);
    }
    const version = secret.versions.get(versionId);
    if (version === undefined) throw new Error(`no version ${versionId}`);
    version.stages.add(stage);
  }

  /** Drops a version entirely. */
  dropVersion(name: string, versionId: string): void {
    this.#require(name).versions.delete(versionId);
  }

  /** Deletes the secret: later calls answer ResourceNotFoundException. */
  remove(name: string): void {
    this.#secrets.delete(name);
  }

  /** Makes every later call of `operation` fail with this failure (or error), until cleared with `undefined`. */
  failWith(
    operation: Operation,
    failure: UpstreamFailure | Error | undefined,
  ): void {
    if (failure === undefined) this.#failures.delete(operation);
    else this.#failures.set(operation, failure);
  }

  /** Holds later calls of `operation` open until the returned function is called. */
  hold(operation: Operation): () => void {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#holds.set(operation, promise);
    return () => {
      if (this.#holds.get(operation) === promise) this.#holds.delete(operation);
      resolve();
    };
  }

  /** GetSecretValue over the fake's versions, by id and/or stage. */
  async getSecretValue(request: SecretRequest): Promise<SecretValue> {
    this.calls.getSecretValue++;
    this.requests.push(request);
    await this.#enter("getSecretValue");
    const secret = this.#find(request.secretId);
    const versionId = request.versionId ??
      this.#holder(secret, request.versionStage ?? "AWSCURRENT");
    const version = versionId === undefined
      ? undefined
      : secret.versions.get(versionId);
    if (
      versionId === undefined || version === undefined ||
      (request.versionStage !== undefined &&
        !version.stages.has(request.versionStage))
    ) {
      throw new UpstreamError(NOT_FOUND);
    }
    return {
      arn: secret.arn,
      name: secret.name,
      versionId,
      secretString: version.secretString,
      versionStages: [...version.stages],
      createdDateMs: version.createdDateMs,
    };
  }

  /** DescribeSecret's VersionIdsToStages (versions without labels omitted, as AWS does). */
  async describeSecret(secretId: string): Promise<VersionStages> {
    this.calls.describeSecret++;
    await this.#enter("describeSecret");
    const secret = this.#find(secretId);
    const stages: Record<string, string[]> = {};
    for (const [versionId, version] of secret.versions) {
      if (version.stages.size > 0) stages[versionId] = [...version.stages];
    }
    return stages;
  }

  async #enter(operation: Operation): Promise<void> {
    const hold = this.#holds.get(operation);
    if (hold !== undefined) await hold;
    const failure = this.#failures.get(operation);
    if (failure instanceof Error) throw failure;
    if (failure !== undefined) throw new UpstreamError(failure);
  }

  #find(secretId: string): FakeSecret {
    const byName = this.#secrets.get(secretId);
    if (byName !== undefined) return byName;
    for (const secret of this.#secrets.values()) {
      if (secret.name === secretId || secret.arn === secretId) return secret;
    }
    throw new UpstreamError(NOT_FOUND);
  }

  #require(name: string): FakeSecret {
    const secret = this.#secrets.get(name);
    if (secret === undefined) throw new Error(`no secret ${name}`);
    return secret;
  }

  #holder(secret: FakeSecret, stage: string): string | undefined {
    for (const [versionId, version] of secret.versions) {
      if (version.stages.has(stage)) return versionId;
    }
    return undefined;
  }
}

/** The ARN the fake gives a secret name. */
export function arnOf(name: string): string {
  return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
}
