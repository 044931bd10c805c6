/**
 * The HTTP layer: a function from `Request` to `Response` that applies the
 * contract's checks in order; `listener.ts` binds it to loopback (and a Unix
 * socket). It answers secrets, and, when given them, Parameter Store
 * parameters and metrics; it reports each answer to the audit log and the
 * metrics when there are any. A secret lookup with `jsonKey` (ours) is
 * answered with that field of its JSON in SecretString's place, or a 400
 * saying why there is none (`../cache/secret_field.ts`). Fresh cache hits
 * are answered synchronously and hold no `max_conn` slot; only lookups that
 * wait on the cache's fetch do. What a URL parses to is remembered. Answers from the cache or AWS are
 * logged one line each; `/ping` and refusals, which anyone on the host can
 * cause, at a bounded rate (`refusal_log.ts`); every URL is logged cut to a
 * bounded length (`request_line.ts`).
 *
 * @module
 */

import { rejection, type RequestRejection } from "../errors.ts";
import type {
  AuditEvent,
  LookupAnswer,
  LookupService,
  RequestLog,
  RequestMetrics,
  RouteLabel,
} from "./handler_services.ts";
import type { Handler } from "./listener.ts";
import { memoize } from "../cache/memo.ts";
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
import { requestLine } from "./request_line.ts";
import { isForwarded, isLocalAuthority } from "./request_origin.ts";
import { RefusalLog } from "./refusal_log.ts";
import { failed, JSON_HEADERS, rejected, TEXT_HEADERS } from "./responses.ts";
import { describeFieldProblem, withJsonField } from "../cache/secret_field.ts";

/** Everything the request path depends on. */
export interface HandlerOptions {
  readonly pathPrefix: string;
  /**
   * Lookups waiting on the cache's fetch (a miss or a renewal, which may
   * wait on AWS) beyond this get 429. Requests answered at once, fresh cache
   * hits and `/ping` included, hold no slot and are never refused for it.
   */
  readonly maxConn: number;
  /** The SSRF token check over the configured headers. */
  readonly isAuthorized: (headers: Headers) => boolean;
  /**
   * False when the operator lets the Unix socket's file mode alone guard
   * it: requests arriving on it skip the token check (never the Host and
   * proxy-header checks). Default true.
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
  /**
   * Where `/ping` and refused requests are logged, at a bounded rate; shared
   * across reloads like `slots`, and flushed at shutdown. Default the
   * handler's own, on `log`.
   */
  readonly refusals?: RefusalLog;
}

/** Lookups waiting on the cache's fetch now, against `maxConn`. */
export interface RequestSlots {
  inFlight: number;
}

/** Ready once the warm-up list has been tried; not while shutting down. */
export type Readiness = "ready" | "warming up" | "stopping";

/** Distinct URLs whose parsing is remembered; longer URLs are parsed each time. */
const ROUTE_MEMO = { capacity: 1024, maxKeyLength: 512 };

/** A request URL, parsed and routed: the same for every request with that URL. */
interface Routed {
  readonly target: RequestTarget;
  readonly parsed: ParsedRoute;
  readonly label: RouteLabel;
  readonly isPing: boolean;
  /** Whether the URL's authority is a loopback name (see `request_origin.ts`). */
  readonly hasLocalAuthority: boolean;
  /** The log line of a GET answered 200, the usual case: one string, reused. */
  readonly okLine: string;
}

/**
 * Builds the handler: origin, token, method, route, cache, limit, respond.
 * Answers from the cache (or AWS) and `/metrics` are logged one line each;
 * `/ping` and refusals through the rate-bounded {@linkcode RefusalLog}.
 * Lines hold the method, the path (cut to a bounded length) and the status,
 * never headers.
 */
export function createHandler(options: HandlerOptions): Handler {
  const slots = options.slots ?? { inFlight: 0 };
  const refusals = options.refusals ?? new RefusalLog({ log: options.log });
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
      isPing: isPingPath(target.pathname),
      hasLocalAuthority: isLocalAuthority(url),
      okLine: requestLine({
        method: "GET",
        target: `${target.pathname}${target.search}`,
        status: 200,
      }),
    };
  }, ROUTE_MEMO);
  const trustsUnixSocket = options.unixSocketRequiresToken === false;
  const context: Context = {
    options,
    slots,
    logged: (request, routed, response) => {
      options.metrics?.recordRequest(routed.label, response.status);
      options.log.info(
        response.status === 200 ? routed.okLine : requestLine({
          method: request.method,
          target: targetOf(routed),
          status: response.status,
        }),
      );
      return response;
    },
    quiet: (request, routed, response) => {
      options.metrics?.recordRequest(routed.label, response.status);
      refusals.record(
        `${routed.label} ${response.status}`,
        () =>
          requestLine({
            method: request.method,
            target: targetOf(routed),
            status: response.status,
          }),
      );
      return response;
    },
  };
  return (request, info) => {
    const routed = route(request.url);
    // Only a Host header that passed the listener's check yet names no valid
    // host (a port over 65535, say) gets here without a URL.
    if (routed === undefined) return new Response(null, { status: 400 });
    const transport = info?.remoteAddr.transport;
    const refused = refusal(options, request, routed, {
      isUnixSocket: transport === "unix",
      needsToken: !(trustsUnixSocket && transport === "unix"),
    });
    if (refused !== undefined) {
      return context.quiet(request, routed, rejected(refused));
    }
    return answer(context, request, routed);
  };
}

/** What the answering steps share. */
interface Context {
  readonly options: HandlerOptions;
  readonly slots: RequestSlots;
  /** Counts and logs an answer on a line of its own. */
  readonly logged: (req: Request, routed: Routed, res: Response) => Response;
  /** Counts an answer and logs it at the refusal log's bounded rate. */
  readonly quiet: (req: Request, routed: Routed, res: Response) => Response;
}

function targetOf({ target }: Routed): string {
  return `${target.pathname}${target.search}`;
}

/**
 * The contract's checks before a request is routed, in order: Host, proxy
 * headers, token (`/ping` skips those two), method, query.
 */
function refusal(
  options: HandlerOptions,
  request: Request,
  routed: Routed,
  via: { readonly isUnixSocket: boolean; readonly needsToken: boolean },
): RequestRejection | undefined {
  // Deno.serve puts the socket's path in the URL of a Unix socket request
  // without a Host header; no browser sends one.
  const isLocal = routed.hasLocalAuthority ||
    (via.isUnixSocket && !request.headers.has("host"));
  if (!isLocal) return rejection.invalidHost();
  if (!routed.isPing) {
    if (isForwarded(request.headers)) return rejection.forwarded();
    if (via.needsToken && !options.isAuthorized(request.headers)) {
      return rejection.badToken();
    }
  }
  if (request.method !== "GET") return rejection.notAllowed();
  if (!routed.parsed.ok) return routed.parsed.rejection;
  return undefined;
}

/** A routed GET that passed every check. */
function answer(
  context: Context,
  request: Request,
  routed: Routed,
): Response | Promise<Response> {
  const { options } = context;
  // `refusal` let only parsed routes through.
  const { route } = routed.parsed as Extract<ParsedRoute, { ok: true }>;
  switch (route.kind) {
    case "ping":
      return context.quiet(request, routed, ping(options, route.ready));
    case "metrics": {
      // Routed only when the handler has metrics (see `features`).
      const { metrics } = options;
      if (metrics === undefined) {
        return context.quiet(request, routed, rejected(rejection.notFound()));
      }
      return context.logged(
        request,
        routed,
        new Response(metrics.render(context.slots.inFlight), {
          headers: { "content-type": metrics.contentType },
        }),
      );
    }
    case "secret":
      return looked(context, request, routed, options.secrets, route);
    case "parameter": {
      // Routed only when the handler has a parameter cache.
      const { parameters } = options;
      if (parameters === undefined) {
        return context.quiet(request, routed, rejected(rejection.notFound()));
      }
      return looked(context, request, routed, parameters, route);
    }
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

/**
 * A lookup answered from the cache at once (a fresh hit, which holds no
 * slot), or after the cache fetches: only that takes one of `maxConn`
 * slots, so hits are served however many misses wait on a stalled AWS.
 */
function looked<R extends LookupRoute>(
  context: Context,
  request: Request,
  routed: Routed,
  service: LookupService<R["lookup"]>,
  route: R,
): Response | Promise<Response> {
  const { options, slots } = context;
  const hit = service.peek?.(route.lookup);
  if (hit !== undefined) {
    return context.logged(request, routed, served(options, route, hit));
  }
  if (slots.inFlight >= options.maxConn) {
    return context.quiet(request, routed, rejected(rejection.tooMany()));
  }
  slots.inFlight++;
  return fetched(options, service, route).then(
    (response) => context.logged(request, routed, response),
  ).finally(() => slots.inFlight--);
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
  const response = answerWith(route, answer);
  options.audit?.(auditEvent(route, response.status, answer));
  return response;
}

/** The cached body; with `jsonKey`, its field in SecretString's place, or why not (400). */
function answerWith(route: LookupRoute, answer: LookupAnswer): Response {
  const jsonKey = route.kind === "secret" ? route.jsonKey : undefined;
  if (jsonKey === undefined) {
    return new Response(answer.body, { headers: JSON_HEADERS });
  }
  const field = withJsonField(answer.body, jsonKey);
  return field.ok
    ? new Response(field.body, { headers: JSON_HEADERS })
    : rejected(rejection.badRequest(
      describeFieldProblem(field.problem, "jsonKey", jsonKey),
    ));
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
