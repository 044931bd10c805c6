/**
 * The HTTP layer: a function from `Request` to `Response` that applies the
 * contract's checks in order; `listener.ts` binds it to loopback (and a Unix
 * socket). It answers secrets, and, when given them, Parameter Store
 * parameters and metrics; it reports each answer to the audit log and the
 * metrics when there are any. Fresh cache hits are answered synchronously,
 * and what a URL parses to is remembered.
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
  type ParameterLookup,
  type ParsedRoute,
  parseRoute,
  type RequestTarget,
  requestTarget,
  type Route,
  type RouteFeatures,
  type SecretLookup,
} from "./request.ts";

/** A cache's answer: the body, the version it holds, how it was produced. */
export interface LookupAnswer {
  readonly body: string;
  readonly versionId: string;
  readonly outcome: string;
}

/** What the handler needs of a cache (`SecretCache` has it). */
export interface LookupService<L> {
  /** Resolves to the answer; rejects with `UpstreamError`. */
  get(lookup: L): Promise<LookupAnswer>;
  /** An answer it can give at once (a fresh cache hit), else `undefined`. */
  peek?(lookup: L): LookupAnswer | undefined;
}

/** What the handler needs of the logger. */
export interface RequestLog {
  info(message: string): void;
  error(message: string): void;
}

/** One served (or refused by AWS) secret or parameter, for the audit log. */
export interface AuditEvent {
  readonly kind: "secret" | "parameter";
  /** The secret id or parameter name as asked. */
  readonly id: string;
  readonly roleArn?: string;
  readonly status: number;
  /** Undefined when no value was served. */
  readonly versionId?: string;
  /** The cache outcome (`hit`, `miss`, ...), or `error`. */
  readonly outcome: string;
}

/** Where the handler counts requests, and what renders `/metrics`. */
export interface RequestMetrics {
  recordRequest(route: RouteLabel, status: number): void;
  /** The Prometheus text; `inFlight` is the requests being answered now. */
  render(inFlight: number): string;
  readonly contentType: string;
}

/** The route a request counts under: never a secret id. */
export type RouteLabel = "ping" | "secret" | "parameter" | "metrics" | "other";

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
  readonly secrets: LookupService<SecretLookup>;
  /** Parameter Store; without it, its path is not found. */
  readonly parameters?: LookupService<ParameterLookup>;
  /** Metrics; without it, `/metrics` is not found. */
  readonly metrics?: RequestMetrics;
  /** Whether `roleArn` is accepted on lookups. */
  readonly allowRoleArn?: boolean;
  /** Told about each secret or parameter answer. */
  readonly audit?: (event: AuditEvent) => void;
  readonly log: RequestLog;
  /** What `/ping?ready=true` reports; default always ready. */
  readonly readiness?: () => Readiness;
  /**
   * The count of requests in flight, shared by the handlers a reload
   * replaces, so `maxConn` holds across them; default the handler's own.
   */
  readonly slots?: RequestSlots;
}

/** Requests being answered now, against `maxConn`. */
export interface RequestSlots {
  inFlight: number;
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
  readonly label: RouteLabel;
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
  const slots = options.slots ?? { inFlight: 0 };
  const features: RouteFeatures = {
    allowRoleArn: options.allowRoleArn,
    parameterStore: options.parameters !== undefined,
    metrics: options.metrics !== undefined,
  };
  const route = memoize((url): Routed | undefined => {
    const target = requestTarget(url);
    if (target === undefined) return undefined;
    const parsed = parseRoute(target, options.pathPrefix, features);
    return {
      target,
      parsed,
      label: parsed.ok ? parsed.route.kind : "other",
      okLine: `GET ${target.pathname}${target.search} 200`,
    };
  }, ROUTE_MEMO);
  const trustsUnixSocket = options.unixSocketRequiresToken === false;
  const inFlightNow = () => slots.inFlight;
  return (request, info) => {
    const routed = route(request.url);
    // Only a Host header that passed the listener's check yet names no valid
    // host (a port over 65535, say) gets here without a URL.
    if (routed === undefined) return new Response(null, { status: 400 });
    const { target } = routed;
    const isPing = isPingPath(target.pathname);
    const limit = options.maxConn + (isPing ? PING_EXTRA_SLOTS : 0);
    if (slots.inFlight >= limit) {
      return logged(options, request, routed, reject(rejection.tooMany()));
    }
    const needsToken = !isPing &&
      !(trustsUnixSocket && info?.remoteAddr.transport === "unix");
    const answered = answer(
      options,
      request,
      routed.parsed,
      needsToken,
      inFlightNow,
    );
    // Answered at once (a rejection, /ping, a cache hit): it held no slot,
    // and Deno.serve sends a plain Response without another turn.
    if (answered instanceof Response) {
      return logged(options, request, routed, answered);
    }
    slots.inFlight++;
    return answered.then(
      (response) => logged(options, request, routed, response),
    ).finally(() => slots.inFlight--);
  };
}

function answer(
  options: HandlerOptions,
  request: Request,
  parsed: ParsedRoute,
  needsToken: boolean,
  inFlight: () => number,
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
  const { route } = parsed;
  switch (route.kind) {
    case "ping":
      return ping(options, route.ready);
    case "metrics":
      // Routed only when the handler has metrics (see `features`).
      return new Response(options.metrics!.render(inFlight()), {
        headers: { "content-type": options.metrics!.contentType },
      });
    case "secret":
      return looked(options, options.secrets, route);
    case "parameter":
      // Routed only when the handler has a parameter cache.
      return looked(options, options.parameters!, route);
  }
}

function ping(options: HandlerOptions, ready: boolean): Response {
  if (!ready) return new Response("healthy", { headers: TEXT_HEADERS });
  const readiness = options.readiness?.() ?? "ready";
  return new Response(readiness, {
    status: readiness === "ready" ? 200 : 503,
    headers: TEXT_HEADERS,
  });
}

/** A lookup route: a secret, or a parameter. */
type LookupRoute = Extract<Route, { kind: "secret" | "parameter" }>;

/** A lookup answered from the cache at once, or after it fetches. */
function looked<R extends LookupRoute>(
  options: HandlerOptions,
  service: LookupService<R["lookup"]>,
  route: R,
): Response | Promise<Response> {
  const hit = service.peek?.(route.lookup);
  if (hit !== undefined) return served(options, route, hit);
  return fetched(options, service, route);
}

/** A value the cache must fetch or renew first. */
async function fetched<R extends LookupRoute>(
  options: HandlerOptions,
  service: LookupService<R["lookup"]>,
  route: R,
): Promise<Response> {
  try {
    return served(options, route, await service.get(route.lookup));
  } catch (error) {
    const response = failed(options.log, error);
    options.audit?.(auditEvent(route, response.status));
    return response;
  }
}

function served(
  options: HandlerOptions,
  route: LookupRoute,
  answer: LookupAnswer,
): Response {
  options.audit?.(auditEvent(route, 200, answer));
  return new Response(answer.body, { headers: JSON_HEADERS });
}

/** Built only when there is an audit log to tell. */
function auditEvent(
  route: LookupRoute,
  status: number,
  answer?: LookupAnswer,
): AuditEvent {
  const { lookup } = route;
  return {
    kind: route.kind,
    id: route.kind === "secret" ? route.lookup.secretId : route.lookup.name,
    ...(lookup.roleArn === undefined ? {} : { roleArn: lookup.roleArn }),
    status,
    ...(answer === undefined
      ? { outcome: "error" }
      : { versionId: answer.versionId, outcome: answer.outcome }),
  };
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
  options: HandlerOptions,
  request: Request,
  { target, okLine, label }: Routed,
  response: Response,
): Response {
  options.metrics?.recordRequest(label, response.status);
  options.log.info(
    response.status === 200 && request.method === "GET"
      ? okLine
      : `${request.method} ${target.pathname}${target.search} ${response.status}`,
  );
  return response;
}
