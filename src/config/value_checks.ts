/**
 * Checks of single TOML values that the key table (`config.ts`) and the
 * `[[file]]` entries (`file_entries.ts`) share: secret ids, octal modes, and
 * how a key is shown in a message.
 *
 * @module
 */

// A secret name or ARN as Secrets Manager takes it: no spaces or control characters.
const SECRET_ID = /^[^\s\p{Cc}]{1,2048}$/u;

/** Whether `value` is a secret name or ARN Secrets Manager could take. */
export function isSecretId(value: unknown): value is string {
  return typeof value === "string" && SECRET_ID.test(value);
}

/** The permission bits of an octal string such as "0660" or "640"; undefined for anything else. */
export function octalMode(raw: unknown): number | undefined {
  return typeof raw === "string" && /^0?[0-7]{3}$/.test(raw)
    ? parseInt(raw, 8)
    : undefined;
}

/** A key as a message shows it: quoted TOML keys may hold anything, newlines included. */
export function displayKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}
