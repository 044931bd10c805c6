/**
 * The `[[file]]` entries of the configuration file: secrets the agent writes
 * to files and keeps current (`../files/secret_files.ts`), for applications
 * that read a file rather than call HTTP. Each entry is checked field by
 * field; entries are named in messages by their place in the file, from 1.
 *
 * @module
 */

import { isRoleArn, ROLE_ARN_FORMAT } from "../aws/role_arn.ts";
import { displayKey, isSecretId, octalMode } from "./value_checks.ts";

/** One secret written to one file. */
export interface SecretFile {
  /** The secret name or ARN. */
  readonly secretId: string;
  /** A staging label; absent means Secrets Manager's default, AWSCURRENT. */
  readonly versionStage?: string;
  /** Read with this role's credentials (needs `allow_role_arn = true`). */
  readonly roleArn?: string;
  /** Write only this top-level field of a JSON SecretString. */
  readonly jsonKey?: string;
  /** The destination, absolute, without `.` or `..` segments. */
  readonly path: string;
  /** The file's permission bits. */
  readonly mode: number;
}

/** The mode of a file whose entry sets none: the agent's user alone may read it. */
export const DEFAULT_FILE_MODE = 0o600;

const FIELDS = [
  "secret_id",
  "version_stage",
  "role_arn",
  "json_key",
  "path",
  "mode",
] as const;
type Field = (typeof FIELDS)[number];
const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELDS);

// Secrets Manager's staging labels: 1 to 256 characters.
const VERSION_STAGE = /^[^\s\p{Cc}]{1,256}$/u;
/** Write bits of others: anyone could then change what an application reads. */
const WRITABLE_BY_OTHERS = 0o002;

/** The problem with an entry's field, or with the entries together. */
const messages = {
  notTables:
    "The file key in the configuration file must be an array of tables: write each entry as a [[file]] section with secret_id and path.",
  unknownKey: (entry: number, key: string) =>
    `Unknown key in [[file]] entry ${entry} of the configuration file: ${
      displayKey(key)
    }. The valid keys are ${FIELDS.join(", ")}.`,
  missing: (entry: number, key: Field) =>
    `[[file]] entry ${entry} in the configuration file has no ${key}. Each [[file]] entry needs secret_id and path.`,
  secretId: (entry: number) =>
    `The secret_id of [[file]] entry ${entry} in the configuration file must be a secret name or ARN, such as "prod/db".`,
  versionStage: (entry: number) =>
    `The version_stage of [[file]] entry ${entry} in the configuration file must be a staging label of 1 to 256 characters, such as "AWSCURRENT".`,
  roleArn: (entry: number) =>
    `The role_arn of [[file]] entry ${entry} in the configuration file must be an IAM role ARN, ${ROLE_ARN_FORMAT}.`,
  roleArnNotAllowed: (entry: number) =>
    `The role_arn of [[file]] entry ${entry} in the configuration file needs allow_role_arn = true.`,
  jsonKey: (entry: number) =>
    `The json_key of [[file]] entry ${entry} in the configuration file must be a non-empty string, the name of a top-level field of the secret's JSON, such as "password".`,
  path: (entry: number) =>
    `The path of [[file]] entry ${entry} in the configuration file must be an absolute path to a file, such as "/run/secrets/db_password", without . or .. segments.`,
  mode: (entry: number) =>
    `The mode of [[file]] entry ${entry} in the configuration file isn't valid. The mode must be an octal string, such as "0600", that gives the owner read access and others no write access.`,
  samePath: (first: number, second: number, path: string) =>
    `[[file]] entries ${first} and ${second} in the configuration file have the same path ${path}: each file is written by one entry only.`,
} as const;

/**
 * The `file` key's value (an array of tables) as frozen entries, or the
 * message for the first problem. `role_arn` is checked against
 * `allow_role_arn` by {@linkcode roleArnProblem}, once every key is read.
 */
export function parseFileEntries(
  raw: unknown,
): { readonly value: readonly SecretFile[] } | { readonly problem: string } {
  if (!Array.isArray(raw)) return { problem: messages.notTables };
  const files: SecretFile[] = [];
  for (const [index, table] of raw.entries()) {
    const parsed = parseEntry(table, index + 1);
    if (typeof parsed === "string") return { problem: parsed };
    const earlier = files.findIndex((file) => file.path === parsed.path);
    if (earlier >= 0) {
      return {
        problem: messages.samePath(earlier + 1, index + 1, parsed.path),
      };
    }
    files.push(parsed);
  }
  return { value: Object.freeze(files) };
}

/** The message for the first entry with a `role_arn` while `allow_role_arn` is off. */
export function roleArnProblem(
  files: readonly SecretFile[],
  allowRoleArn: boolean,
): string | undefined {
  if (allowRoleArn) return undefined;
  const index = files.findIndex((file) => file.roleArn !== undefined);
  return index < 0 ? undefined : messages.roleArnNotAllowed(index + 1);
}

/** One entry, or the message for its first problem. */
function parseEntry(table: unknown, entry: number): SecretFile | string {
  if (!isTable(table)) return messages.notTables;
  // A Map, so that keys such as "__proto__" never reach Object.prototype.
  const values = new Map<string, unknown>(Object.entries(table));
  for (const key of values.keys()) {
    if (!KNOWN_FIELDS.has(key)) return messages.unknownKey(entry, key);
  }
  const secretId = values.get("secret_id");
  if (secretId === undefined) return messages.missing(entry, "secret_id");
  if (!isSecretId(secretId)) return messages.secretId(entry);
  const path = values.get("path");
  if (path === undefined) return messages.missing(entry, "path");
  if (!isFilePath(path)) return messages.path(entry);
  const versionStage = values.get("version_stage");
  if (
    versionStage !== undefined &&
    !(typeof versionStage === "string" && VERSION_STAGE.test(versionStage))
  ) return messages.versionStage(entry);
  const roleArn = values.get("role_arn");
  if (
    roleArn !== undefined &&
    !(typeof roleArn === "string" && isRoleArn(roleArn))
  ) return messages.roleArn(entry);
  const jsonKey = values.get("json_key");
  if (
    jsonKey !== undefined && !(typeof jsonKey === "string" && jsonKey !== "")
  ) {
    return messages.jsonKey(entry);
  }
  const rawMode = values.get("mode");
  const mode = rawMode === undefined ? DEFAULT_FILE_MODE : octalMode(rawMode);
  if (
    mode === undefined || (mode & 0o400) === 0 ||
    (mode & WRITABLE_BY_OTHERS) !== 0
  ) return messages.mode(entry);
  return Object.freeze({
    secretId,
    ...(versionStage === undefined ? {} : { versionStage }),
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(jsonKey === undefined ? {} : { jsonKey }),
    path,
    mode,
  });
}

/** A TOML table, as the parser makes them: not an array, not a date. */
function isTable(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** Absolute and plain: Deno's grants and the agent's messages name it as written. */
function isFilePath(raw: unknown): raw is string {
  return typeof raw === "string" && raw.startsWith("/") &&
    !raw.includes("\0") &&
    raw.slice(1).split("/").every((segment) =>
      segment !== "" && segment !== "." && segment !== ".."
    );
}
