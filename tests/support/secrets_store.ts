/**
 * The state behind the local Secrets Manager server: secrets, their versions
 * and staging labels, with the rules AWS documents. Pure and synchronous, so
 * it is tested without a socket; the wire format lives elsewhere.
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";
import { attachLabel, CURRENT, updateLabel } from "./staging_labels.ts";
import {
  DAY_MS,
  describe,
  randomArnSuffix,
  samePayload,
  type Secret,
  type SecretPayload,
  startOfDay,
  type StoredDescription,
  type StoredValue,
  type Version,
} from "./secret_records.ts";

export type {
  SecretPayload,
  StoredDescription,
  StoredValue,
} from "./secret_records.ts";

/** Options of {@link SecretsStore}. */
export interface SecretsStoreOptions {
  /** Region in ARNs; default `us-east-1`. */
  region?: string;
  /** Account in ARNs; default `123456789012`. */
  accountId?: string;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
  /** The six characters AWS appends to the name in an ARN; default random. */
  arnSuffix?: () => string;
  /** Version ids when the caller gives none; default a random UUID. */
  newVersionId?: () => string;
}

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** Secrets, versions and staging labels with Secrets Manager's semantics. */
export class SecretsStore {
  #secrets = new Map<string, Secret>();
  #region: string;
  #accountId: string;
  #now: () => number;
  #arnSuffix: () => string;
  #newVersionId: () => string;

  /** An empty store. */
  constructor(options: SecretsStoreOptions = {}) {
    this.#region = options.region ?? "us-east-1";
    this.#accountId = options.accountId ?? "123456789012";
    this.#now = options.now ?? Date.now;
    this.#arnSuffix = options.arnSuffix ?? randomArnSuffix;
    this.#newVersionId = options.newVersionId ?? (() => crypto.randomUUID());
  }

  /** CreateSecret: a new secret, with a first AWSCURRENT version if a value is given. */
  createSecret(
    name: string,
    options: {
      value?: SecretPayload;
      versionId?: string;
      description?: string;
      tags?: readonly { key: string; value: string }[];
    } = {},
  ): { arn: string; name: string; versionId?: string } {
    if (!NAME_PATTERN.test(name)) {
      throw ServiceError.invalidParameter(
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
      );
    }
    const existing = this.#secrets.get(name);
    if (existing?.deletedDateMs !== undefined) {
      throw ServiceError.invalidRequest(
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing) {
      throw new ServiceError(
        "ResourceExistsException",
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = this.#now();
    const arn =
      `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${name}-${this.#arnSuffix()}`;
    const secret: Secret = {
      arn,
      name,
      description: options.description,
      tags: options.tags ?? [],
      createdDateMs: now,
      lastChangedDateMs: now,
      versions: new Map(),
    };
    this.#secrets.set(name, secret);
    if (options.value === undefined) return { arn, name };
    const versionId = options.versionId ?? this.#newVersionId();
    secret.versions.set(versionId, {
      versionId,
      payload: options.value,
      createdDateMs: now,
      stages: [CURRENT],
    });
    return { arn, name, versionId };
  }

  /** PutSecretValue: a new version; its labels (default AWSCURRENT) move to it. */
  putSecretValue(
    secretId: string,
    value: SecretPayload,
    options: { versionId?: string; versionStages?: readonly string[] } = {},
  ): { arn: string; name: string; versionId: string; versionStages: string[] } {
    const secret = this.#live(secretId);
    const versionId = options.versionId ?? this.#newVersionId();
    const stages = [...new Set(options.versionStages ?? [CURRENT])];
    const same = secret.versions.get(versionId);
    if (same) {
      // Idempotent retry of the same request; anything else is a new version.
      if (!samePayload(same.payload, value)) {
        throw new ServiceError(
          "ResourceExistsException",
          "You can't modify an existing version, you can only create a new version.",
        );
      }
      const { arn, name } = secret;
      return { arn, name, versionId, versionStages: [...same.stages] };
    }
    const version: Version = {
      versionId,
      payload: value,
      createdDateMs: this.#now(),
      stages: [],
    };
    secret.versions.set(versionId, version);
    for (const stage of stages) {
      attachLabel(secret.versions.values(), stage, version);
    }
    secret.lastChangedDateMs = this.#now();
    const { arn, name } = secret;
    return { arn, name, versionId, versionStages: [...version.stages] };
  }

  /** UpdateSecretVersionStage: move, attach or remove one label. */
  updateSecretVersionStage(
    secretId: string,
    stage: string,
    options: { moveToVersionId?: string; removeFromVersionId?: string },
  ): { arn: string; name: string } {
    const secret = this.#live(secretId);
    updateLabel(secret.versions, stage, {
      ...options,
      secretName: secret.name,
    });
    secret.lastChangedDateMs = this.#now();
    return { arn: secret.arn, name: secret.name };
  }

  /** DeleteSecret: schedule the deletion, or remove at once when forced. */
  deleteSecret(
    secretId: string,
    options: { force?: boolean; recoveryWindowDays?: number } = {},
  ): { arn: string; name: string; deletionDateMs: number } {
    const secret = this.#find(secretId);
    const now = this.#now();
    if (options.force) {
      this.#secrets.delete(secret.name);
      return { arn: secret.arn, name: secret.name, deletionDateMs: now };
    }
    if (secret.deletedDateMs !== undefined) {
      throw ServiceError.markedForDeletion();
    }
    secret.deletedDateMs = now;
    const days = options.recoveryWindowDays ?? 30;
    return {
      arn: secret.arn,
      name: secret.name,
      deletionDateMs: now + days * DAY_MS,
    };
  }

  /** RestoreSecret: cancel a scheduled deletion. */
  restoreSecret(secretId: string): { arn: string; name: string } {
    const secret = this.#find(secretId);
    secret.deletedDateMs = undefined;
    return { arn: secret.arn, name: secret.name };
  }

  /** GetSecretValue: by VersionId, VersionStage (default AWSCURRENT), or both. */
  getSecretValue(
    secretId: string,
    options: { versionId?: string; versionStage?: string } = {},
  ): StoredValue {
    const secret = this.#live(secretId);
    const { versionId, versionStage } = options;
    let version: Version | undefined;
    if (versionId !== undefined) {
      version = secret.versions.get(versionId);
      if (!version) {
        throw ServiceError.notFound(
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      if (
        versionStage !== undefined && !version.stages.includes(versionStage)
      ) {
        throw ServiceError.invalidRequest(
          "You provided a VersionStage that is not associated to the provided VersionId.",
        );
      }
    } else {
      const stage = versionStage ?? CURRENT;
      version = [...secret.versions.values()].find((v) =>
        v.stages.includes(stage)
      );
      if (!version) {
        throw ServiceError.notFound(
          `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        );
      }
    }
    secret.lastAccessedDateMs = startOfDay(this.#now());
    const payload = version.payload;
    return {
      arn: secret.arn,
      name: secret.name,
      versionId: version.versionId,
      ...(typeof payload === "string"
        ? { secretString: payload }
        : { secretBinary: payload.slice() }),
      versionStages: [...version.stages],
      createdDateMs: version.createdDateMs,
    };
  }

  /** DescribeSecret: metadata and the labelled versions; works on deleted secrets too. */
  describeSecret(secretId: string): StoredDescription {
    return describe(this.#find(secretId));
  }

  /** ListSecrets: every secret, oldest first; scheduled deletions only if asked. */
  listSecrets(
    options: { includePlannedDeletion?: boolean } = {},
  ): StoredDescription[] {
    return [...this.#secrets.values()]
      .filter((s) =>
        options.includePlannedDeletion || s.deletedDateMs === undefined
      )
      .map(describe);
  }

  /** A secret by name, full ARN or partial ARN (without the suffix). */
  #find(secretId: string): Secret {
    const byName = this.#secrets.get(secretId);
    if (byName && !secretId.startsWith("arn:")) return byName;
    for (const secret of this.#secrets.values()) {
      if (secret.arn === secretId) return secret;
      if (secret.arn.slice(0, -7) === secretId) return secret;
    }
    throw ServiceError.secretNotFound();
  }

  /** A secret that is not scheduled for deletion. */
  #live(secretId: string): Secret {
    const secret = this.#find(secretId);
    if (secret.deletedDateMs !== undefined) {
      throw ServiceError.markedForDeletion();
    }
    return secret;
  }
}
