/**
 * The `[[file]]` entries' messages, as docs/configuration.md gives them,
 * written once for the tests that expect them (the key table's tests and
 * the config fuzz), independently of `src/config/file_entries.ts`.
 *
 * @module
 */

export const FILE_MESSAGES = {
  notTables:
    "The file key in the configuration file must be an array of tables: write each entry as a [[file]] section with secret_id and path.",
  unknownKey: (n: number, key: string) =>
    `Unknown key in [[file]] entry ${n} of the configuration file: ${
      /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key)
    }. The valid keys are secret_id, version_stage, role_arn, json_key, path, mode.`,
  missing: (n: number, key: string) =>
    `[[file]] entry ${n} in the configuration file has no ${key}. Each [[file]] entry needs secret_id and path.`,
  secretId: (n: number) =>
    `The secret_id of [[file]] entry ${n} in the configuration file must be a secret name or ARN, such as "prod/db".`,
  versionStage: (n: number) =>
    `The version_stage of [[file]] entry ${n} in the configuration file must be a staging label of 1 to 256 characters, such as "AWSCURRENT".`,
  roleArn: (n: number) =>
    `The role_arn of [[file]] entry ${n} in the configuration file must be an IAM role ARN, arn:<partition>:iam::<account>:role/<name>.`,
  roleArnNotAllowed: (n: number) =>
    `The role_arn of [[file]] entry ${n} in the configuration file needs allow_role_arn = true.`,
  jsonKey: (n: number) =>
    `The json_key of [[file]] entry ${n} in the configuration file must be a non-empty string, the name of a top-level field of the secret's JSON, such as "password".`,
  path: (n: number) =>
    `The path of [[file]] entry ${n} in the configuration file must be an absolute path to a file, such as "/run/secrets/db_password", without . or .. segments.`,
  mode: (n: number) =>
    `The mode of [[file]] entry ${n} in the configuration file isn't valid. The mode must be an octal string, such as "0600", that gives the owner read access and others no write access.`,
  samePath: (first: number, second: number, path: string) =>
    `[[file]] entries ${first} and ${second} in the configuration file have the same path ${path}: each file is written by one entry only.`,
} as const;
