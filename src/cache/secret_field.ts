/**
 * One top-level field of a secret whose SecretString is a JSON object: what
 * the `jsonKey` request parameter answers and a `[[file]]` entry's
 * `json_key` writes. The key is taken literally (a dot is part of the name,
 * not a path: `"db.host"` is a key of its own in many secrets). A string
 * field is its text as is; any other value is its JSON text, compact, with
 * numbers exactly as the secret writes them (`12345678901234567890` stays
 * so, where a JavaScript number would round it).
 *
 * @module
 */

import type { SecretPayload } from "./secret_value.ts";

/** Why a field cannot be taken: a binary secret, a SecretString that is no JSON object, no such key. */
export type FieldProblem = "binary" | "not_json_object" | "absent";

/** A field's text, or why there is none. */
export type FieldResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly problem: FieldProblem };

/**
 * JSON source text access (in V8 since 11.4): a reviver's `context.source`
 * and `JSON.rawJSON`, which TypeScript's library does not declare yet.
 */
const sourceJson = JSON as unknown as {
  parse(
    text: string,
    reviver: (
      key: string,
      value: unknown,
      context: { source: string },
    ) => unknown,
  ): unknown;
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
};

/** A body made by `toResponseBody`, parsed back: its fields in order, and its payload. */
export function readBody(
  body: string,
): { fields: Record<string, unknown>; payload: SecretPayload } {
  const fields: Record<string, unknown> = JSON.parse(body);
  const payload: SecretPayload = typeof fields.SecretString === "string"
    ? { secretString: fields.SecretString }
    : { secretBinary: String(fields.SecretBinary) };
  return { fields, payload };
}

/**
 * The text of field `key` of the payload's JSON object.
 *
 * @example
 * ```ts
 * jsonField({ secretString: '{"user":"app","port":5432}' }, "port"); // { ok: true, text: "5432" }
 * ```
 */
export function jsonField(payload: SecretPayload, key: string): FieldResult {
  if (payload.secretString === undefined) {
    return { ok: false, problem: "binary" };
  }
  let parsed: unknown;
  try {
    // Numbers keep their source text: JSON.stringify writes a raw JSON value as is.
    parsed = sourceJson.parse(
      payload.secretString,
      (_key, value, context) =>
        typeof value === "number" ? sourceJson.rawJSON(context.source) : value,
    );
  } catch {
    return { ok: false, problem: "not_json_object" };
  }
  if (
    typeof parsed !== "object" || parsed === null || Array.isArray(parsed) ||
    sourceJson.isRawJSON(parsed)
  ) {
    return { ok: false, problem: "not_json_object" };
  }
  if (!Object.hasOwn(parsed, key)) return { ok: false, problem: "absent" };
  const value = (parsed as Record<string, unknown>)[key];
  return {
    ok: true,
    text: typeof value === "string" ? value : JSON.stringify(value),
  };
}

/**
 * The response body with SecretString replaced by field `key`'s text, every
 * other field as it was, so clients keep their GetSecretValue parsers.
 */
export function withJsonField(
  body: string,
  key: string,
):
  | { readonly ok: true; readonly body: string }
  | { readonly ok: false; readonly problem: FieldProblem } {
  const { fields, payload } = readBody(body);
  const field = jsonField(payload, key);
  if (!field.ok) return field;
  return {
    ok: true,
    body: JSON.stringify({ ...fields, SecretString: field.text }),
  };
}

/**
 * One line saying why `parameter` (`jsonKey`, `json_key`) found no field
 * `key`; it names the key, never the value.
 */
export function describeFieldProblem(
  problem: FieldProblem,
  parameter: string,
  key: string,
): string {
  switch (problem) {
    case "binary":
      return `${parameter} needs a JSON object in SecretString; the secret is binary`;
    case "not_json_object":
      return `${parameter} needs a JSON object in SecretString; the secret's is not one`;
    case "absent":
      return `${parameter} not in the secret's JSON: ${key}`;
  }
}
