/**
 * The HTTP layer: a function from `Request` to `Response` that applies the
 * contract's checks in order, and the `Deno.serve` wrapper that binds it to
 * loopback only.
 *
 * @module
 */

import {
  rejection,
  type RequestRejection,
  upstreamBody,
  UpstreamError,
  upstreamStatus,
} from "./errors.ts";
import type { Handler } from "./listener.ts";
import { isPingPath, parseRoute, type SecretLookup } from "./request.ts";

/** What the handler needs of the cache. */
export interface SecretLookupService {
  /** Resolves to the response body and how the cache produced it; rejects with `UpstreamError`. */
  get(lookup: SecretLookup): Promise<{ body: string; outcome: string }>;
}

/** What the handler needs of the logger. */
export interface RequestLog {
  info(message: string): void;
  error(message: string): void;
}

/** Everything the request path depends on. */
export interface HandlerOptions {
  readonly pathPrefix: string;
  /** Requests in flight beyond this get 429; `/ping` has two more. */
  readonly maxConn: number;
  /** The SSRF token check over the configured headers. */
  readonly isAuthorized: (headers: Headers) => boolean;
  readonly secrets: SecretLookupService;
  readonly log: RequestLog;
}

const PING_EXTRA_SLOTS = 2;
const JSON_HEADERS = { "content-type": "application/json" };
const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8" };

/**
 * Builds the handler: limit, token, method, route, cache, respond. Every
 * request is logged with its path and status, never with headers.
 */
export function createHandler(options: HandlerOptions): Handler {
  let inFlight = 0;
  return async (request) => {
    const url = new URL(request.url);
    const isPing = isPingPath(url.pathname);
    const limit = options.maxConn + (isPing ? PING_EXTRA_SLOTS : 0);
    if (inFlight >= limit) {
      return logged(options.log, request, url, reject(rejection.tooMany()));
    }
    inFlight++;
    try {
      const response = await answer(options, request, url, isPing);
      return logged(options.log, request, url, response);
    } finally {
      inFlight--;
    }
  };
}

async function answer(
  options: HandlerOptions,
  request: Request,
  url: URL,
  isPing: boolean,
): Promise<Response> {
  if (!isPing) {
    if (request.headers.has("x-forwarded-for")) {
      return reject(rejection.forwarded());
    }
    if (!options.isAuthorized(request.headers)) {
      return reject(rejection.badToken());
    }
  }
  if (request.method !== "GET") return reject(rejection.notAllowed());
  const parsed = parseRoute(url, options.pathPrefix);
  if (!parsed.ok) return reject(parsed.rejection);
  if (parsed.route.kind === "ping") {
    return new Response("healthy", { headers: TEXT_HEADERS });
  }
  try {
    const { body } = await options.secrets.get(parsed.route.lookup);
    return new Response(body, { headers: JSON_HEADERS });
  } catch (error) {
    return failed(options.log, error);
  }
}

/** The one place where a thrown error becomes an HTTP answer. */
function failed(log: RequestLog, error: unknown): Response {
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

function reject(rejected: RequestRejection): Response {
  return new Response(rejected.body, {
    status: rejected.status,
    headers: TEXT_HEADERS,
  });
}

function logged(
  log: RequestLog,
  request: Request,
  url: URL,
  response: Response,
): Response {
  log.info(
    `${request.method} ${url.pathname}${url.search} ${response.status}`,
  );
  return response;
}
