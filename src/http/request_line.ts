/**
 * The log line of one request, `<method> <path and query> <status>`, with
 * the method and the target cut to a bounded length: a request head may be
 * 64 KiB, and a line that long per request lets a few hundred requests
 * rotate every log file away.
 *
 * @module
 */

/** Characters of a request's path and query kept in its log line. */
export const MAX_LOGGED_TARGET_CHARS = 256;
/** Characters of a method kept (an unknown method is any token, of any length). */
export const MAX_LOGGED_METHOD_CHARS = 16;
/** Where a cut target may end: after a delimiter, so no segment is kept in part. */
const DELIMITERS = "/?&=";

/** What a request's log line says. */
export interface RequestLineFields {
  readonly method: string;
  /** The path and query, as routed. */
  readonly target: string;
  readonly status: number;
}

/**
 * One request's log line, its method and target cut by {@linkcode bounded}.
 *
 * @example
 * ```ts
 * requestLine({ method: "GET", target: "/v1/db?versionStage=AWSCURRENT", status: 200 });
 * // "GET /v1/db?versionStage=AWSCURRENT 200"
 * ```
 */
export function requestLine(
  { method, target, status }: RequestLineFields,
): string {
  return `${bounded(method, MAX_LOGGED_METHOD_CHARS)} ${
    bounded(target, MAX_LOGGED_TARGET_CHARS)
  } ${status}`;
}

/**
 * `text` when it has at most `maxChars` characters; otherwise its start, up
 * to the last delimiter (`/`, `?`, `&`, `=`) within `maxChars` (the first
 * `maxChars` characters when there is none, as in a method), then
 * `...[+<n> chars]`. Ending at a delimiter keeps a path segment or
 * query value whole or leaves it out: the logger redacts a token it sees
 * whole, and would miss the first half of one.
 */
export function bounded(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars;
  for (let i = maxChars - 1; i >= 0; i--) {
    if (DELIMITERS.includes(text[i])) {
      end = i + 1;
      break;
    }
  }
  return `${text.slice(0, end)}...[+${text.length - end} chars]`;
}
