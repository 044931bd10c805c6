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
 * its request forever, so a failed request's fetch is aborted here. Its
 * timeout also ends at the answer's headers: a body that stops arriving
 * would hang the call (and every request sharing it), so each wait for a
 * chunk of the body is bounded by the same timeout.
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

/** The options of {@linkcode AgentHttpHandler}. */
export interface AgentHttpHandlerOptions {
  /** Until the answer's headers, and then between chunks of its body. */
  readonly requestTimeout: number;
}

/**
 * `FetchHttpHandler`, with fetch's network failures turned into
 * {@linkcode NetworkError}, the fetch of a failed request aborted, and the
 * body's chunks bounded in time.
 */
export class AgentHttpHandler extends FetchHttpHandler {
  readonly #timeoutMs: number;

  constructor(options: AgentHttpHandlerOptions) {
    super({ requestTimeout: options.requestTimeout });
    this.#timeoutMs = options.requestTimeout;
  }

  override async handle(
    request: HandleArguments[0],
    options: HandleArguments[1] = {},
  ): Promise<HandleResult> {
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
    const { body } = result.response;
    if (body instanceof ReadableStream) {
      result.response.body = boundedBody(
        body,
        this.#timeoutMs,
        () => cancel.abort(),
      );
    }
    return result;
  }
}

/** The SDK's name for a timed-out attempt: retried, then answered 504. */
function timeoutError(ms: number): Error {
  return Object.assign(new Error(`No data for ${ms} ms`), {
    name: "TimeoutError",
  });
}

/** `body`, failing with a `TimeoutError` (and `onTimeout`) when a chunk takes over `ms`. */
function boundedBody(
  body: ReadableStream<Uint8Array>,
  ms: number,
  onTimeout: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError(ms)), ms);
      });
      try {
        const chunk = await Promise.race([reader.read(), timedOut]);
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      } catch (error) {
        onTimeout();
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: (reason) => reader.cancel(reason),
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
