/**
 * The AWS SDK's HTTP handler for the agent: the SDK's own fetch-based one,
 * so calls go through Deno's fetch and its bundled root certificates rather
 * than `node:https` (under the sandbox, `node:tls` wants the whole of
 * `--allow-sys`: it reads its root certificates behind a permission no
 * scoped grant can name). Deno's fetch reports every network failure as
 * `TypeError: fetch failed`; this gives them the Node error codes that the
 * SDK's retry rules and `classify` know, so they are retried and answered
 * 502 as before. And when the SDK's handler gives up on a request (its
 * timeout), it leaves the fetch running: a stalled connection would hold
 * its request forever, so a failed request's fetch is aborted here.
 *
 * Its timeout also ends at the answer's headers: a body that stops
 * arriving, or drips a byte at a time, would hang the call (and every
 * request sharing it). So `requestTimeout` here bounds the whole attempt,
 * headers and body: the body must have arrived in full by the same
 * deadline. And a body is read only up to {@linkcode MAX_UPSTREAM_BODY_BYTES}:
 * past it the attempt fails with {@linkcode UpstreamBodyTooLargeError}
 * (answered 502) and the connection is dropped, so a hostile or broken
 * endpoint cannot make the agent buffer what it sends.
 *
 * @module
 */

import { FetchHttpHandler } from "@smithy/fetch-http-handler";

type HandleArguments = Parameters<FetchHttpHandler["handle"]>;
type HandleResult = Awaited<ReturnType<FetchHttpHandler["handle"]>>;

/** A network failure, with the Node code that names its kind. */
export class NetworkError extends Error {
  /** `ECONNREFUSED`, `ENOTFOUND` or `ECONNRESET`. */
  readonly code: string;

  /** Wraps Deno's fetch failure; `cause` keeps it. */
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NetworkError";
    this.code = code;
  }
}

/**
 * The most bytes of an answer's body read from AWS: 1 MiB. Secret values are
 * at most 65,536 bytes; the largest legitimate answer is a GetSecretValue
 * whose SecretString is all control characters, each escaped as `\u00XX`
 * (6 bytes each: 384 KiB), plus ARN, name, version id and up to 20 labels
 * (a few KiB). DescribeSecret (about 100 versions, 50 tags, replicas), STS
 * and Parameter Store (8 KiB values) answer far less. 1 MiB leaves 2.5
 * times the worst case while keeping each call in flight to about 1 MiB.
 */
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

/** An answer whose body is longer than the handler reads; classified as a connection error. */
export class UpstreamBodyTooLargeError extends Error {
  /** The bound it passed, in bytes. */
  readonly maxBytes: number;

  /** Names the bound only: nothing of the body itself. */
  constructor(maxBytes: number) {
    super(`Answer body longer than ${maxBytes} bytes`);
    this.name = "UpstreamBodyTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/** The options of {@linkcode AgentHttpHandler}. */
export interface AgentHttpHandlerOptions {
  /** The whole of one attempt in milliseconds: until the last byte of the answer's body. */
  readonly requestTimeout: number;
  /** The most bytes of a body read; default {@linkcode MAX_UPSTREAM_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
}

/**
 * `FetchHttpHandler`, with fetch's network failures turned into
 * {@linkcode NetworkError}, the fetch of a failed request aborted, and each
 * attempt bounded in time (headers and whole body) and in body size.
 */
export class AgentHttpHandler extends FetchHttpHandler {
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;

  constructor(options: AgentHttpHandlerOptions) {
    super({ requestTimeout: options.requestTimeout });
    this.#timeoutMs = options.requestTimeout;
    this.#maxBodyBytes = options.maxBodyBytes ?? MAX_UPSTREAM_BODY_BYTES;
  }

  override async handle(
    request: HandleArguments[0],
    options: HandleArguments[1] = {},
  ): Promise<HandleResult> {
    const startedMs = performance.now();
    const cancel = new AbortController();
    const given = options.abortSignal as AbortSignal | undefined;
    let result: HandleResult;
    try {
      result = await super.handle(request, {
        ...options,
        abortSignal: given === undefined
          ? cancel.signal
          : AbortSignal.any([given, cancel.signal]),
      });
    } catch (error) {
      // Not on success: the SDK still reads the answer's body.
      cancel.abort();
      throw asNetworkError(error);
    }
    const { body, headers } = result.response;
    if (body instanceof ReadableStream) {
      // The headers took part of the attempt's time; the body gets the rest.
      result.response.body = boundedBody(body, {
        timeoutMs: this.#timeoutMs,
        remainingMs: this.#timeoutMs - (performance.now() - startedMs),
        maxBytes: this.#maxBodyBytes,
        declaredBytes: declaredLength(headers),
        onFailure: () => cancel.abort(),
      });
    }
    return result;
  }
}

/** The SDK's name for a timed-out attempt: retried, then answered 504. */
function timeoutError(ms: number): Error {
  return Object.assign(new Error(`Answer not complete within ${ms} ms`), {
    name: "TimeoutError",
  });
}

/** `Content-Length`, when the answer declares a valid one. */
function declaredLength(
  headers: Record<string, string | undefined>,
): number | undefined {
  const entry = Object.entries(headers).find(([name]) =>
    name.toLowerCase() === "content-length"
  );
  const value = entry?.[1]?.trim();
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

interface BodyBounds {
  /** The attempt's timeout, for the error's message. */
  readonly timeoutMs: number;
  /** Until the attempt's deadline. */
  readonly remainingMs: number;
  readonly maxBytes: number;
  /** `Content-Length`: past `maxBytes`, the body fails before a byte is read. */
  readonly declaredBytes: number | undefined;
  /** Aborts the fetch, so its connection is dropped. */
  readonly onFailure: () => void;
}

/**
 * `body`, failing with a `TimeoutError` when it is not complete by the
 * deadline, or an {@linkcode UpstreamBodyTooLargeError} past `maxBytes`
 * (declared or counted); either way the fetch is aborted and nothing more
 * is read.
 */
function boundedBody(
  body: ReadableStream<Uint8Array>,
  bounds: BodyBounds,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const expired = Promise.withResolvers<never>();
  // Read or not, the deadline ends the fetch: no connection outlives it.
  expired.promise.catch(() => {});
  let isSettled = false;
  let receivedBytes = 0;
  const settle = (error?: unknown) => {
    if (isSettled) return;
    isSettled = true;
    clearTimeout(timer);
    if (error === undefined) return;
    expired.reject(error);
    bounds.onFailure();
    reader.cancel(error).catch(() => {});
  };
  const timer = setTimeout(
    () => settle(timeoutError(bounds.timeoutMs)),
    Math.max(0, bounds.remainingMs),
  );
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if ((bounds.declaredBytes ?? 0) > bounds.maxBytes) {
          throw new UpstreamBodyTooLargeError(bounds.maxBytes);
        }
        const chunk = await Promise.race([reader.read(), expired.promise]);
        if (chunk.done) {
          settle();
          controller.close();
          return;
        }
        receivedBytes += chunk.value.byteLength;
        if (receivedBytes > bounds.maxBytes) {
          throw new UpstreamBodyTooLargeError(bounds.maxBytes);
        }
        controller.enqueue(chunk.value);
      } catch (error) {
        settle(error);
        controller.error(error);
      }
    },
    cancel(reason) {
      settle();
      return reader.cancel(reason);
    },
  });
}

/** Deno's `TypeError: fetch failed` as a {@linkcode NetworkError}; anything else unchanged. */
export function asNetworkError(error: unknown): unknown {
  if (!(error instanceof TypeError) || error.message !== "fetch failed") {
    return error;
  }
  const detail = error.cause instanceof Error
    ? error.cause.message
    : String(error.cause ?? "");
  const code = /refused/i.test(detail)
    ? "ECONNREFUSED"
    : /dns error|failed to lookup|name or service not known/i.test(detail)
    ? "ENOTFOUND"
    : "ECONNRESET";
  return new NetworkError(detail || error.message, code, { cause: error });
}
