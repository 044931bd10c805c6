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

/** A request handler as `Deno.serve` takes it. */
export type Handler = (request: Request) => Promise<Response>;

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

/** Where and how to listen. */
export interface ListenOptions {
  readonly port: number;
  /** Called once the socket is bound, with the address actually obtained. */
  readonly onListen?: (address: Deno.NetAddr) => void;
}

/** Raised when the socket cannot be bound where the agent must listen. */
export class ListenError extends Error {
  /** A one-line message for stderr. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ListenError";
  }
}

const LOOPBACK = "127.0.0.1";

/**
 * Serves on 127.0.0.1 only. `DENO_SERVE_ADDRESS` can redirect `Deno.serve`,
 * so the bound address is checked and anything else is shut down at once.
 */
export async function listen(
  handler: Handler,
  options: ListenOptions,
): Promise<Deno.HttpServer<Deno.NetAddr>> {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: LOOPBACK,
      port: options.port,
      onListen: () => {},
    }, handler);
  } catch (error) {
    throw new ListenError(listenFailure(error, options.port), {
      cause: error,
    });
  }
  const address = server.addr;
  if (address.transport !== "tcp" || address.hostname !== LOOPBACK) {
    await server.shutdown();
    throw new ListenError(
      `Refusing to serve on ${address.hostname}:${address.port}: the agent listens on ${LOOPBACK} only (is DENO_SERVE_ADDRESS set?)`,
    );
  }
  options.onListen?.(address);
  return server;
}

function listenFailure(error: unknown, port: number): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return `Could not listen on ${LOOPBACK}:${port}: the port is already in use`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `Could not listen on ${LOOPBACK}:${port}: the sandbox does not grant it (add "${LOOPBACK}" to "net" in the "agent" permission set in deno.json)`;
  }
  return `Could not listen on ${LOOPBACK}:${port}: ${
    error instanceof Error ? error.message : String(error)
  }`;
}
