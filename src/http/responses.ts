/**
 * The answers the handler builds from typed outcomes: a refusal's text, and
 * the one place where a thrown error becomes an HTTP answer (the upstream
 * failure's mapped code and message, never its detail).
 *
 * @module
 */

import {
  type RequestRejection,
  upstreamBody,
  UpstreamError,
  upstreamStatus,
} from "../errors.ts";

/** Headers of a JSON answer: a secret, a parameter, an upstream failure. */
export const JSON_HEADERS = Object.freeze({
  "content-type": "application/json",
});
/** Headers of a plain-text answer: `/ping` and refusals. */
export const TEXT_HEADERS = Object.freeze({
  "content-type": "text/plain; charset=utf-8",
});

/** A refusal with the contract's status and text. */
export function rejected(rejection: RequestRejection): Response {
  return new Response(rejection.body, {
    status: rejection.status,
    headers: TEXT_HEADERS,
  });
}

/**
 * The answer to a lookup that threw: an {@linkcode UpstreamError}'s status
 * and JSON body; anything else is a 500 `InternalFailure`, logged on `log`.
 */
export function failed(
  log: { error(message: string): void },
  error: unknown,
): Response {
  const failure = error instanceof UpstreamError
    ? error.failure
    : { kind: "internal" as const, detail: String(error) };
  if (failure.kind === "internal") {
    log.error(`Unexpected failure: ${failure.detail}`);
  }
  return new Response(upstreamBody(failure), {
    status: upstreamStatus(failure),
    headers: JSON_HEADERS,
  });
}
