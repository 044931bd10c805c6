/**
 * The records the secrets store keeps, and the read-only views of them it
 * hands out.
 *
 * @module
 */

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;
const SUFFIX_ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A secret value: text, or bytes for SecretBinary. */
export type SecretPayload = string | Uint8Array;

/** One version of a secret as GetSecretValue returns it. */
export interface StoredValue {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
  readonly secretString?: string;
  readonly secretBinary?: Uint8Array;
  readonly versionStages: readonly string[];
  /** Epoch milliseconds. */
  readonly createdDateMs: number;
}

/** A secret's metadata as DescribeSecret and ListSecrets return it. */
export interface StoredDescription {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
  readonly createdDateMs: number;
  readonly lastChangedDateMs: number;
  readonly lastAccessedDateMs?: number;
  readonly deletedDateMs?: number;
  /** Only versions that carry at least one label, as AWS lists them. */
  readonly versionIdsToStages: Readonly<Record<string, readonly string[]>>;
}

/** A version as the store keeps it. */
export interface Version {
  readonly versionId: string;
  readonly payload: SecretPayload;
  readonly createdDateMs: number;
  stages: string[];
}

/** A secret as the store keeps it. */
export interface Secret {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly { key: string; value: string }[];
  readonly createdDateMs: number;
  lastChangedDateMs: number;
  lastAccessedDateMs?: number;
  deletedDateMs?: number;
  readonly versions: Map<string, Version>;
}

/** The DescribeSecret view of a secret (a copy). */
export function describe(secret: Secret): StoredDescription {
  const versionIdsToStages: Record<string, string[]> = {};
  for (const version of secret.versions.values()) {
    if (version.stages.length > 0) {
      versionIdsToStages[version.versionId] = [...version.stages];
    }
  }
  return {
    arn: secret.arn,
    name: secret.name,
    description: secret.description,
    tags: secret.tags.map((t) => ({ ...t })),
    createdDateMs: secret.createdDateMs,
    lastChangedDateMs: secret.lastChangedDateMs,
    lastAccessedDateMs: secret.lastAccessedDateMs,
    deletedDateMs: secret.deletedDateMs,
    versionIdsToStages,
  };
}

/** Whether two values are the same text or the same bytes. */
export function samePayload(a: SecretPayload, b: SecretPayload): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** AWS reports LastAccessedDate rounded down to the day. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** Six random letters and digits, as AWS appends to ARNs. */
export function randomArnSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length])
    .join("");
}
