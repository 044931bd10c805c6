/**
 * Binds the handler to 127.0.0.1 with `Deno.serve`, and bounds connection
 * lifetime, which `Deno.serve` cannot do by itself (it has no idle or header
 * timeout, so a silent or slow-dripping client would hold its socket
 * forever). A new server generation binds the same port (`reusePort`) before
 * the previous one is `maxConnectionAgeMs` old; the previous one retires: for
 * a short grace its answers carry `Connection: close`, so busy keep-alive
 * clients leave cleanly after their current request instead of having an
 * idle socket closed under a request they are sending, and then it shuts down
 * gracefully: requests in flight finish, and its remaining connections, idle,
 * half-sent or keep-alive, close. So no connection lives longer than the
 * limit plus the request it is serving, and clients reconnect as they do
 * after any keep-alive close.
 *
 * `Deno.serve` also builds `request.url` as `http://<Host header><target>`
 * without checking the Host: a Host holding `/`, `?` or `#` would move the
 * path the handler routes on (and logs), and one the URL parser rejects makes
 * `new URL(request.url)` throw. Such a request gets `400`, as RFC 9112 asks
 * for an invalid Host, before the handler sees it.
 *
 * @module
 */

/** Serves one request; `Deno.serve` calls it. A plain `Response` skips a promise hop. */
export type Handler = (request: Request) => Response | Promise<Response>;

/** Where and how to listen. */
export interface ListenOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** How long a connection may live; default 61 s, as the original agent. */
  readonly maxConnectionAgeMs?: number;
  /** Called once the socket is bound, with the address actually obtained. */
  readonly onListen?: (address: Deno.NetAddr) => void;
  /** Called when a new generation cannot bind; the current one keeps serving. */
  readonly onRotationError?: (error: ListenError) => void;
}

/** The agent's listening socket(s). */
export interface Listener {
  readonly addr: Deno.NetAddr;
  /** Stops accepting, lets requests in flight finish, closes every connection. */
  shutdown(): Promise<void>;
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
const MAX_CONNECTION_AGE_MS = 61_000;
/** How long a retiring generation tells its clients to leave before it closes what is left. */
const RETIRE_GRACE_MS = 1_000;
/** A DNS name or IPv4 address, or a bracketed IPv6 literal, then an optional port. */
const PLAIN_HOST = /^(?:[A-Za-z0-9._~-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$/;

/**
 * Serves on 127.0.0.1 only, in generations of at most `maxConnectionAgeMs`.
 * `DENO_SERVE_ADDRESS` can redirect `Deno.serve`, so each bound address is
 * checked and anything else is shut down at once.
 */
export async function listen(
  handler: Handler,
  options: ListenOptions,
): Promise<Listener> {
  // reusePort would let a second agent share a busy port: refuse that first.
  if (options.port !== 0) probePortFree(options.port);
  handler = rejectingBadHost(handler);
  const ageMs = options.maxConnectionAgeMs ?? MAX_CONNECTION_AGE_MS;
  const graceMs = Math.min(RETIRE_GRACE_MS, ageMs / 4);
  let current = await serveGeneration(handler, options.port);
  const { addr } = current.server;
  const retiring = new Set<Generation>();
  const closing = new Set<Promise<void>>();
  const close = (generation: Generation) => {
    retiring.delete(generation);
    const done = generation.server.shutdown();
    closing.add(done);
    const forget = () => void closing.delete(done);
    done.then(forget, forget);
  };

  const rotate = async () => {
    let next: Generation;
    try {
      next = await serveGeneration(handler, addr.port);
    } catch (error) {
      options.onRotationError?.(error as ListenError);
      return;
    }
    const previous = current;
    current = next;
    previous.isRetiring = true;
    retiring.add(previous);
    const grace = setTimeout(() => {
      if (retiring.has(previous)) close(previous);
    }, graceMs);
    Deno.unrefTimer(grace);
  };
  const timer = setInterval(rotate, ageMs - graceMs);
  Deno.unrefTimer(timer);
  options.onListen?.(addr);

  return {
    addr,
    async shutdown() {
      clearInterval(timer);
      for (const generation of [current, ...retiring]) close(generation);
      await Promise.all(closing);
    },
  };
}

/** One `Deno.serve`; once retiring, its answers close their connections. */
interface Generation {
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  isRetiring: boolean;
}

/** Asks the client to close the connection after this answer (RFC 9112, 9.6). */
function closingConnection(response: Response): Response {
  try {
    response.headers.set("connection", "close");
  } catch {
    // Immutable headers: the shutdown after the grace closes it instead.
  }
  return response;
}

/**
 * Answers 400 to a Host header that would not stay the URL's authority; the
 * handler answers 400 to one that is shaped right but does not parse.
 */
function rejectingBadHost(handler: Handler): Handler {
  return (request) => {
    const host = request.headers.get("host");
    if (host !== null && !PLAIN_HOST.test(host)) {
      return new Response(null, { status: 400 });
    }
    return handler(request);
  };
}

function probePortFree(port: number): void {
  try {
    Deno.listen({ hostname: LOOPBACK, port }).close();
  } catch (error) {
    throw new ListenError(listenFailure(error, port), { cause: error });
  }
}

async function serveGeneration(
  handler: Handler,
  port: number,
): Promise<Generation> {
  let server: Deno.HttpServer<Deno.NetAddr>;
  const generation = { isRetiring: false };
  const served: Handler = (request) => {
    const answer = handler(request);
    if (!generation.isRetiring) return answer;
    return answer instanceof Response
      ? closingConnection(answer)
      : answer.then(closingConnection);
  };
  try {
    server = Deno.serve({
      hostname: LOOPBACK,
      port,
      reusePort: true,
      onListen: () => {},
    }, served);
  } catch (error) {
    throw new ListenError(listenFailure(error, port), { cause: error });
  }
  const address = server.addr;
  const isWanted = address.transport === "tcp" &&
    address.hostname === LOOPBACK && (port === 0 || address.port === port);
  if (!isWanted) {
    await server.shutdown();
    throw new ListenError(redirected(`${address.hostname}:${address.port}`));
  }
  return Object.assign(generation, { server });
}

function redirected(address: string): string {
  return `Refusing to serve on ${address}: the agent listens on ${LOOPBACK}:<http_port> only (is DENO_SERVE_ADDRESS set?)`;
}

// Deno's NotCapable message names the address it was asked for.
const REFUSED_ADDRESS = /net access to "([^"]+)"/;

function listenFailure(error: unknown, port: number): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return `Could not listen on ${LOOPBACK}:${port}: the port is already in use`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    const asked = REFUSED_ADDRESS.exec(error.message)?.[1];
    // DENO_SERVE_ADDRESS moved the socket somewhere the sandbox rightly refuses.
    if (asked !== undefined && asked !== `${LOOPBACK}:${port}`) {
      return redirected(asked);
    }
    return `Could not listen on ${LOOPBACK}:${port}: the sandbox does not grant it (add "${LOOPBACK}" to "net" in the "agent" permission set in deno.json)`;
  }
  return `Could not listen on ${LOOPBACK}:${port}: ${
    error instanceof Error ? error.message : String(error)
  }`;
}
