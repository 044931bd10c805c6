/**
 * ListSecrets-style filters and NextToken pagination, shared by ListSecrets
 * and BatchGetSecretValue.
 *
 * @module
 */

import {
  type JsonInput,
  objectItem,
  readInteger,
  readList,
  readString,
  stringItem,
} from "./json_input.ts";
import type { StoredDescription } from "./secret_records.ts";
import { ServiceError } from "./service_error.ts";

const FILTER_KEYS = [
  "description",
  "name",
  "tag-key",
  "tag-value",
  "primary-region",
  "owning-service",
  "all",
];

/** ListSecrets filters: every filter must match; values are prefixes, `!` negates. */
export function readFilters(
  input: JsonInput,
): (d: StoredDescription) => boolean {
  const filters = (readList(input, "Filters", objectItem) ?? []).map((f) => {
    const key = readString(f, "Key", { required: true })!;
    if (!FILTER_KEYS.includes(key)) {
      throw ServiceError.validation(
        `1 validation error detected: Value '${key}' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${
          FILTER_KEYS.join(", ")
        }]`,
      );
    }
    return { key, values: readList(f, "Values", stringItem) ?? [] };
  });
  return (d) =>
    filters.every(({ key, values }) =>
      values.some((value) => {
        const negated = value.startsWith("!");
        const prefix = negated ? value.slice(1) : value;
        const hit = fieldsFor(d, key).some((field) => field.startsWith(prefix));
        return negated ? !hit : hit;
      })
    );
}

function fieldsFor(d: StoredDescription, key: string): string[] {
  switch (key) {
    case "name":
      return [d.name];
    case "description":
      return d.description === undefined ? [] : [d.description];
    case "tag-key":
      return d.tags.map((t) => t.key);
    case "tag-value":
      return d.tags.map((t) => t.value);
    case "all":
      return [
        d.name,
        d.description ?? "",
        ...d.tags.flatMap((t) => [t.key, t.value]),
      ];
    default:
      return [];
  }
}

/** Offset pagination: NextToken is the index of the next item. */
export function paginate<T>(
  items: readonly T[],
  input: JsonInput,
  defaultMax = 100,
) {
  const max = readInteger(input, "MaxResults") ?? defaultMax;
  if (max < 1 || max > 100) {
    throw ServiceError.validation(
      "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100",
    );
  }
  const token = readString(input, "NextToken");
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > items.length) {
    throw new ServiceError(
      "InvalidNextTokenException",
      "The NextToken value is invalid.",
    );
  }
  const end = start + max;
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? String(end) : undefined,
  };
}
