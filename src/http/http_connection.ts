/**
 * Serves HTTP on one accepted connection, with the engine `Deno.serve` runs
 * on each of its connections (hyper, with the same parsing, limits and
 * `Request` objects). `Deno.serve` owns its accept loop and hides its
 * connections: it cannot cap them, close the oldest idle one, age one out,
 * or keep accepting after `EMFILE` (its loop ends with "Too many open
 * files" and never binds again). The agent therefore accepts with
 * `Deno.listen` and hands each connection here.
 *
 * Deno has no public API for this step (`Deno.serveHttp` was removed in
 * Deno 2): `serveHttpOnConnection` is the function Deno's own runtime keeps
 * in `Deno[Deno.internal]` for it. It was chosen over `node:http`, whose
 * sockets are public, because in Deno 2.9 a `node:http` server stops
 * accepting for good after one `EMFILE` and costs about twice the CPU per
 * request. Its absence is a start-up error naming the Deno version.
 *
 * @module
 */

import type { Handler } from "./listener.ts";

/** One connection being served. */
export interface HttpConnection {
  /** Resolves when the connection has closed, for whatever reason. */
  readonly finished: Promise<void>;
  /** Lets the request in flight finish, then closes; an idle or half-sent connection closes at once. */
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  connection: Deno.Conn,
  signal: AbortSignal | undefined,
  handler: Deno.ServeHandler<Deno.Addr>,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => HttpConnection;

/** Raised when this Deno cannot serve HTTP on an accepted connection. */
export class UnsupportedRuntimeError extends Error {
  /** A one-line message for stderr. */
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedRuntimeError";
  }
}

/** Deno's per-connection server, or an error naming the Deno that lacks it. */
export function connectionServer(): ServeOnConnection {
  const internals = (Deno as unknown as Record<symbol, unknown>)[
    (Deno as unknown as { internal: symbol }).internal
  ] as { serveHttpOnConnection?: unknown } | undefined;
  const serve = internals?.serveHttpOnConnection;
  if (typeof serve !== "function") {
    throw new UnsupportedRuntimeError(
      `This Deno (${Deno.version.deno}) cannot serve HTTP on an accepted connection (no serveHttpOnConnection): run the agent with Deno 2.9`,
    );
  }
  return serve as ServeOnConnection;
}

/** A request's info with the client address taken from its connection. */
class ConnectionInfo implements Deno.ServeHandlerInfo<Deno.Addr> {
  readonly remoteAddr: Deno.Addr;
  readonly #info: Deno.ServeHandlerInfo<Deno.Addr>;

  /** `info` is Deno's, for everything but the address. */
  constructor(remoteAddr: Deno.Addr, info: Deno.ServeHandlerInfo<Deno.Addr>) {
    this.remoteAddr = remoteAddr;
    this.#info = info;
  }

  get completed(): Promise<void> {
    return this.#info.completed;
  }
}

/** What a handler that throws answers: the contract's body for anything unexpected. */
function internalFailure(): Response {
  return Response.json({ __type: "InternalFailure" }, { status: 500 });
}

/** Serves `handler` on `connection` until the client or `shutdown()` closes it. */
export function serveConnection(
  serve: ServeOnConnection,
  connection: Deno.Conn,
  handler: Handler,
): HttpConnection {
  // Deno's own info reads a Unix client's address from the listener it
  // expects, which a served connection lacks (it throws): a Unix client's
  // comes from the connection instead. TCP's is Deno's, at no cost.
  const { remoteAddr } = connection;
  const serving: Deno.ServeHandler<Deno.Addr> = remoteAddr.transport === "tcp"
    ? handler as Deno.ServeHandler<Deno.Addr>
    : (request, info) => handler(request, new ConnectionInfo(remoteAddr, info));
  const served = serve(
    connection,
    undefined,
    serving,
    internalFailure,
    () => {},
  );
  // A connection that fails (a reset, a protocol error) has just closed.
  const finished = served.finished.catch(() => {});
  return {
    finished,
    shutdown: () => served.shutdown().catch(() => {}),
  };
}
