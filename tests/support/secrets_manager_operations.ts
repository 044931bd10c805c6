/**
 * Secrets Manager's operations in AWS JSON 1.1 shape: each takes the parsed
 * request body, calls the store, and returns the response body.
 *
 * @module
 */

import {
  type JsonInput,
  objectItem,
  readBlob,
  readBoolean,
  readInteger,
  readList,
  readString,
  stringItem,
  toBase64,
  toEpochSeconds,
} from "./json_input.ts";
import type {
  SecretPayload,
  SecretsStore,
  StoredDescription,
  StoredValue,
} from "./secrets_store.ts";
import { ServiceError } from "./service_error.ts";
import { paginate, readFilters } from "./list_filters.ts";

/** One operation: request body in, response body out; throws `ServiceError`. */
export type Operation = (
  store: SecretsStore,
  input: JsonInput,
) => Record<string, unknown>;

const SECRET_ID = { required: true, min: 1, max: 2048 } as const;
const VERSION_ID = { min: 32, max: 64 } as const;
const STAGE = { min: 1, max: 256 } as const;

/** The operations the server implements, by X-Amz-Target operation name. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  GetSecretValue(store, input) {
    return valueBody(
      store.getSecretValue(readString(input, "SecretId", SECRET_ID)!, {
        versionId: readString(input, "VersionId", VERSION_ID),
        versionStage: readString(input, "VersionStage", STAGE),
      }),
    );
  },
  DescribeSecret(store, input) {
    const description = store.describeSecret(
      readString(input, "SecretId", SECRET_ID)!,
    );
    return { ...descriptionBody(description), RotationEnabled: false };
  },
  CreateSecret(store, input) {
    const tags = readList(input, "Tags", objectItem)?.map((tag) => ({
      key: readString(tag, "Key", { required: true })!,
      value: readString(tag, "Value") ?? "",
    }));
    const created = store.createSecret(
      readString(input, "Name", { required: true, min: 1, max: 512 })!,
      {
        value: readPayload(input, false),
        versionId: readString(input, "ClientRequestToken", VERSION_ID),
        description: readString(input, "Description", { max: 2048 }),
        tags,
      },
    );
    return {
      ARN: created.arn,
      Name: created.name,
      VersionId: created.versionId,
    };
  },
  PutSecretValue(store, input) {
    const put = store.putSecretValue(
      readString(input, "SecretId", SECRET_ID)!,
      readPayload(input, true)!,
      {
        versionId: readString(input, "ClientRequestToken", VERSION_ID),
        versionStages: readList(input, "VersionStages", stringItem),
      },
    );
    return {
      ARN: put.arn,
      Name: put.name,
      VersionId: put.versionId,
      VersionStages: put.versionStages,
    };
  },
  UpdateSecretVersionStage(store, input) {
    const updated = store.updateSecretVersionStage(
      readString(input, "SecretId", SECRET_ID)!,
      readString(input, "VersionStage", { ...STAGE, required: true })!,
      {
        moveToVersionId: readString(input, "MoveToVersionId", VERSION_ID),
        removeFromVersionId: readString(
          input,
          "RemoveFromVersionId",
          VERSION_ID,
        ),
      },
    );
    return { ARN: updated.arn, Name: updated.name };
  },
  DeleteSecret(store, input) {
    const secretId = readString(input, "SecretId", SECRET_ID)!;
    const force = readBoolean(input, "ForceDeleteWithoutRecovery");
    const days = readInteger(input, "RecoveryWindowInDays");
    if (force && days !== undefined) {
      throw ServiceError.invalidParameter(
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (days !== undefined && (days < 7 || days > 30)) {
      throw ServiceError.invalidParameter(
        "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
      );
    }
    const deleted = store.deleteSecret(secretId, {
      force,
      recoveryWindowDays: days,
    });
    return {
      ARN: deleted.arn,
      Name: deleted.name,
      DeletionDate: toEpochSeconds(deleted.deletionDateMs),
    };
  },
  RestoreSecret(store, input) {
    const restored = store.restoreSecret(
      readString(input, "SecretId", SECRET_ID)!,
    );
    return { ARN: restored.arn, Name: restored.name };
  },
  ListSecrets(store, input) {
    const matches = readFilters(input);
    const all = store.listSecrets({
      includePlannedDeletion: readBoolean(input, "IncludePlannedDeletion"),
    }).filter(matches);
    if (readString(input, "SortOrder") === "desc") all.reverse();
    const page = paginate(all, input);
    return {
      SecretList: page.items.map((d) => ({
        ...descriptionBody(d),
        SecretVersionsToStages: d.versionIdsToStages,
      })),
      NextToken: page.nextToken,
    };
  },
  BatchGetSecretValue(store, input) {
    const ids = readList(input, "SecretIdList", stringItem);
    const hasFilters = input.Filters !== undefined && input.Filters !== null;
    if ((ids === undefined) === !hasFilters) {
      throw ServiceError.invalidParameter(
        "Either SecretIdList or Filters must be provided, but not both.",
      );
    }
    if (ids !== undefined) {
      if (ids.length > 20 || input.MaxResults !== undefined) {
        throw ServiceError.invalidParameter(
          ids.length > 20
            ? "SecretIdList can contain at most 20 secret IDs."
            : "MaxResults can only be used with Filters.",
        );
      }
      return batchOf(store, ids);
    }
    const names = store.listSecrets().filter(readFilters(input)).map((d) =>
      d.name
    );
    const page = paginate(names, input, 20);
    return { ...batchOf(store, page.items), NextToken: page.nextToken };
  },
};

function batchOf(store: SecretsStore, ids: readonly string[]) {
  const values: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const id of ids) {
    try {
      values.push(valueBody(store.getSecretValue(id)));
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      errors.push({
        SecretId: id,
        ErrorCode: error.code,
        Message: error.message,
      });
    }
  }
  return { SecretValues: values, Errors: errors };
}

/** SecretString or SecretBinary: exactly one, or none when `required` is false. */
function readPayload(
  input: JsonInput,
  required: boolean,
): SecretPayload | undefined {
  const text = readString(input, "SecretString", { max: 65536 });
  const binary = readBlob(input, "SecretBinary");
  if (text !== undefined && binary !== undefined) {
    throw ServiceError.invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (required && text === undefined && binary === undefined) {
    throw ServiceError.invalidRequest(
      "You must provide either SecretString or SecretBinary.",
    );
  }
  return text ?? binary;
}

function valueBody(value: StoredValue): Record<string, unknown> {
  return {
    ARN: value.arn,
    Name: value.name,
    VersionId: value.versionId,
    SecretString: value.secretString,
    SecretBinary: value.secretBinary && toBase64(value.secretBinary),
    VersionStages: value.versionStages,
    CreatedDate: toEpochSeconds(value.createdDateMs),
  };
}

function descriptionBody(d: StoredDescription): Record<string, unknown> {
  const seconds = (ms?: number) =>
    ms === undefined ? undefined : toEpochSeconds(ms);
  return {
    ARN: d.arn,
    Name: d.name,
    Description: d.description,
    LastChangedDate: seconds(d.lastChangedDateMs),
    LastAccessedDate: seconds(d.lastAccessedDateMs),
    DeletedDate: seconds(d.deletedDateMs),
    Tags: d.tags.length > 0
      ? d.tags.map((t) => ({ Key: t.key, Value: t.value }))
      : undefined,
    VersionIdsToStages: d.versionIdsToStages,
    CreatedDate: seconds(d.createdDateMs),
  };
}
