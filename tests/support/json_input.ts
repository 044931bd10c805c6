/**
 * Field-by-field reading of an AWS JSON 1.1 request body, with the errors
 * AWS gives for wrong types (SerializationException) and broken constraints
 * (ValidationException).
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** A parsed JSON request body: always an object. */
export type JsonInput = Readonly<Record<string, unknown>>;

/** Parses a request body; an empty body is `{}` as the SDK may send it. */
export function parseJsonInput(body: string): JsonInput {
  if (body.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ServiceError(
      "SerializationException",
      "The request body is not valid JSON.",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError(
      "SerializationException",
      "Start of structure or map expected.",
    );
  }
  return parsed as JsonInput;
}

/** Length bounds of a string member. */
export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
}

/** A string member, checked for type, presence and length. */
export function readString(
  input: JsonInput,
  key: string,
  rule: StringRule = {},
): string | undefined {
  const value = Object.hasOwn(input, key) ? input[key] : undefined;
  const member = key[0].toLowerCase() + key.slice(1);
  if (value === undefined || value === null) {
    if (rule.required) {
      throw ServiceError.validation(
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return undefined;
  }
  if (typeof value !== "string") {
    throw new ServiceError(
      "SerializationException",
      `${key} must be a string.`,
    );
  }
  const { min = 0, max = Infinity } = rule;
  if (value.length < min || value.length > max) {
    const bound = value.length < min
      ? `greater than or equal to ${min}`
      : `less than or equal to ${max}`;
    throw ServiceError.validation(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  return value;
}

/** A boolean member. */
export function readBoolean(
  input: JsonInput,
  key: string,
): boolean | undefined {
  const value = Object.hasOwn(input, key) ? input[key] : undefined;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") {
    throw new ServiceError(
      "SerializationException",
      `${key} must be a boolean.`,
    );
  }
  return value;
}

/** An integer member. */
export function readInteger(
  input: JsonInput,
  key: string,
): number | undefined {
  const value = Object.hasOwn(input, key) ? input[key] : undefined;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ServiceError(
      "SerializationException",
      `${key} must be an integer.`,
    );
  }
  return value;
}

/** A list member whose items are read by `item`. */
export function readList<T>(
  input: JsonInput,
  key: string,
  item: (value: unknown) => T,
): T[] | undefined {
  const value = Object.hasOwn(input, key) ? input[key] : undefined;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw new ServiceError("SerializationException", `${key} must be a list.`);
  }
  return value.map(item);
}

/** A list item that must be a string. */
export function stringItem(value: unknown): string {
  if (typeof value !== "string") {
    throw new ServiceError(
      "SerializationException",
      "List items must be strings.",
    );
  }
  return value;
}

/** A list item that must be an object (a structure). */
export function objectItem(value: unknown): JsonInput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ServiceError(
      "SerializationException",
      "List items must be structures.",
    );
  }
  return value as JsonInput;
}

/** Decodes a base64 blob member (SecretBinary). */
export function readBlob(
  input: JsonInput,
  key: string,
): Uint8Array | undefined {
  const text = readString(input, key);
  if (text === undefined) return undefined;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new ServiceError(
      "SerializationException",
      `${key} is not valid base64.`,
    );
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Encodes bytes as base64, as blobs travel in JSON. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Epoch milliseconds as AWS JSON timestamps: seconds with a fraction. */
export function toEpochSeconds(ms: number): number {
  return ms / 1000;
}
