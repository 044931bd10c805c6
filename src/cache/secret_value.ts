/**
 * What the agent asks Secrets Manager for, and what it keeps of the answer.
 *
 * @module
 */

/** One secret request: the cache key and the GetSecretValue parameters. */
export interface SecretRequest {
  /** A secret name or full ARN, exactly as the caller gave it. */
  readonly secretId: string;
  /** A specific version, when asked for. */
  readonly versionId?: string;
  /** A staging label, when asked for (Secrets Manager defaults to AWSCURRENT). */
  readonly versionStage?: string;
  /** Read with this role's credentials (STS AssumeRole), when asked for. */
  readonly roleArn?: string;
}

/** A secret's value: text, or binary already base64 as it travels in JSON; never both, never neither. */
export type SecretPayload =
  | { readonly secretString: string; readonly secretBinary?: never }
  | { readonly secretBinary: string; readonly secretString?: never };

/** The fields of a GetSecretValue answer that the agent returns. */
export type SecretValue = SecretPayload & {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
  readonly versionStages: readonly string[];
  /** Epoch milliseconds. */
  readonly createdDateMs?: number;
};

/** DescribeSecret's VersionIdsToStages: version id to its labels. */
export type VersionStages = Readonly<Record<string, readonly string[]>>;

/** Where the cache gets secrets from: the SDK client in production, a fake in unit tests. */
export interface SecretsSource {
  /** GetSecretValue; rejects with `UpstreamError`. */
  getSecretValue(request: SecretRequest): Promise<SecretValue>;
  /** DescribeSecret's version map; rejects with `UpstreamError`. */
  describeSecret(secretId: string, roleArn?: string): Promise<VersionStages>;
}

/**
 * The success body, keys in GetSecretValue's order, absent ones omitted, with
 * CreatedDate as a string of epoch seconds with milliseconds.
 */
export function toResponseBody(value: SecretValue): string {
  const body: Record<string, unknown> = {
    ARN: value.arn,
    Name: value.name,
    VersionId: value.versionId,
  };
  if (value.secretString !== undefined) body.SecretString = value.secretString;
  if (value.secretBinary !== undefined) body.SecretBinary = value.secretBinary;
  body.VersionStages = value.versionStages;
  if (value.createdDateMs !== undefined) {
    body.CreatedDate = (value.createdDateMs / 1000).toFixed(3);
  }
  return JSON.stringify(body);
}
