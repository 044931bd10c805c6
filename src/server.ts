/**
 * The HTTP layer: a function from `Request` to `Response` that applies the
 * contract's checks in order; `listener.ts` binds it to loopback. Fresh cache
 * hits are answered synchronously, and what a URL parses to is remembered.
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
import { memoize } from "./memo.ts";
import {
  isPingPath,
  type ParsedRoute,
  parseRoute,
  type RequestTarget,
  requestTarget,
  type SecretLookup,
} from "./request.ts";

/** What the handler needs of the cache. */
export interface SecretLookupService {
  /** Resolves to the response body and how the cache produced it; rejects with `UpstreamError`. */
  get(lookup: SecretLookup): Promise<{ body: string; outcome: string }>;
  /** A body it can give at once (a fresh cache hit), else `undefined`. */
  peek?(lookup: SecretLookup): string | undefined;
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
  /**
   * False when the operator lets the Unix socket's file mode alone guard
   * it: requests arriving on it skip the token check. Default true.
   */
  readonly unixSocketRequiresToken?: boolean;
  readonly secrets: SecretLookupService;
  readonly log: RequestLog;
  /** What `/ping?ready=true` reports; default always ready. */
  readonly readiness?: () => Readiness;
}

/** Ready once the warm-up list has been tried; not while shutting down. */
export type Readiness = "ready" | "warming up" | "stopping";

const PING_EXTRA_SLOTS = 2;
/** Distinct URLs whose parsing is remembered; longer URLs are parsed each time. */
const ROUTE_MEMO = { capacity: 1024, maxKeyLength: 512 };

/** A request URL, parsed and routed: the same for every request with that URL. */
interface Routed {
  readonly target: RequestTarget;
  readonly parsed: ParsedRoute;
  /** The log line of a GET answered 200, the usual case: one string, reused. */
  readonly okLine: string;
}

const JSON_HEADERS = { "content-type": "application/json" };
const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8" };

/**
 * Builds the handler: limit, token, method, route, cache, respond. Every
 * request is logged with its path and status, never with headers.
 */
export function createHandler(options: HandlerOptions): Handler {
  let inFlight = 0;
  const route = memoize((url): Routed | undefined => {
    const target = requestTarget(url);
    return target && {
      target,
      parsed: parseRoute(target, options.pathPrefix),
      okLine: `GET ${target.pathname}${target.search} 200`,
    };
  }, ROUTE_MEMO);
  const trustsUnixSocket = options.unixSocketRequiresToken === false;
  return (request, info) => {
    const routed = route(request.url);
    // Only a Host header that passed the listener's check yet names no valid
    // host (a port over 65535, say) gets here without a URL.
    if (routed === undefined) return new Response(null, { status: 400 });
    const { target } = routed;
    const isPing = isPingPath(target.pathname);
    const limit = options.maxConn + (isPing ? PING_EXTRA_SLOTS : 0);
    if (inFlight >= limit) {
      return logged(options.log, request, routed, reject(rejection.tooMany()));
    }
    const needsToken = !isPing &&
      !(trustsUnixSocket && info?.remoteAddr.transport === "unix");
    const answered = answer(options, request, routed.parsed, needsToken);
    // Answered at once (a rejection, /ping, a cache hit): it held no slot,
    // and Deno.serve sends a plain Response without another turn.
    if (answered instanceof Response) {
      return logged(options.log, request, routed, answered);
    }
    inFlight++;
    return answered.then(
      (response) => logged(options.log, request, routed, response),
    ).finally(() => inFlight--);
  };
}

function answer(
  options: HandlerOptions,
  request: Request,
  parsed: ParsedRoute,
  needsToken: boolean,
): Response | Promise<Response> {
  if (needsToken) {
    if (request.headers.has("x-forwarded-for")) {
      return reject(rejection.forwarded());
    }
    if (!options.isAuthorized(request.headers)) {
      return reject(rejection.badToken());
    }
  }
  if (request.method !== "GET") return reject(rejection.notAllowed());
  if (!parsed.ok) return reject(parsed.rejection);
  if (parsed.route.kind === "ping") {
    if (!parsed.route.ready) {
      return new Response("healthy", { headers: TEXT_HEADERS });
    }
    const readiness = options.readiness?.() ?? "ready";
    return new Response(readiness, {
      status: readiness === "ready" ? 200 : 503,
      headers: TEXT_HEADERS,
    });
  }
  const hit = options.secrets.peek?.(parsed.route.lookup);
  if (hit !== undefined) return new Response(hit, { headers: JSON_HEADERS });
  return fetched(options, parsed.route.lookup);
}

/** A secret the cache must fetch or renew first. */
async function fetched(
  options: HandlerOptions,
  lookup: SecretLookup,
): Promise<Response> {
  try {
    const { body } = await options.secrets.get(lookup);
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
  { target, okLine }: Routed,
  response: Response,
): Response {
  log.info(
    response.status === 200 && request.method === "GET"
      ? okLine
      : `${request.method} ${target.pathname}${target.search} ${response.status}`,
  );
  return response;
}
