/**
 * Binds the handler to loopback (127.0.0.1, `[::1]`, or both) and optionally
 * a Unix domain socket, one listening socket each for the agent's whole
 * life, and serves every accepted connection through one
 * {@link ConnectionPool}: open connections capped below the open-file
 * limit (oldest idle closed first), each closed at the connection age limit
 * (with `Connection: close` answers in its last second), accept errors
 * survived, a socket closed under the agent bound again at once. See
 * `connection_pool.ts`.
 *
 * No socket sets `SO_REUSEPORT`: with it, any process of the same user could
 * bind the agent's port too and receive a share of its requests, SSRF token
 * included. Nor is `Deno.serve` used: `DENO_SERVE_ADDRESS` redirects or
 * duplicates its listener, and the agent refuses to start while that
 * variable is set at all ({@link refuseServeAddressOverride}).
 *
 * A Unix socket gets its mode before any other user can connect, and a
 * live one of another process is left alone: see `unix_socket.ts`.
 *
 * Deno builds `request.url` as `http://<Host header><target>` without
 * checking the Host: a Host holding `/`, `?` or `#` would move the path the
 * handler routes on (and logs), and one the URL parser rejects makes
 * `new URL(request.url)` throw. Such a request gets `400`, as RFC 9112 asks
 * for an invalid Host, before the handler sees it.
 *
 * @module
 */

import { AcceptLoop, ConnectionPool, isOutOfFiles } from "./connection_pool.ts";
import type { ListenAddress } from "../config/config.ts";
import { firstLine, grantHint } from "../failure_text.ts";
import { refuseLiveSocket, UnixSocketFile } from "./unix_socket.ts";

/** Serves one request; called with the client's address. */
export type Handler = (
  request: Request,
  info?: Deno.ServeHandlerInfo<Deno.Addr>,
) => Response | Promise<Response>;

/** A Unix domain socket to serve on, and the permission bits of its file. */
export interface UnixSocketOptions {
  readonly path: string;
  readonly mode: number;
}

/** Where and how to listen. */
export interface ListenOptions {
  /** The TCP port of every address; 0 picks a free one (shared by all). */
  readonly port: number;
  /** Loopback addresses; default 127.0.0.1 only. */
  readonly addresses?: readonly ListenAddress[];
  readonly unixSocket?: UnixSocketOptions;
  /** How long a connection may live; default 61 s, as the original agent. */
  readonly maxConnectionAgeMs?: number;
  /** Open connections at most, on all sockets together; default {@link MAX_OPEN_CONNECTIONS}. */
  readonly maxOpenConnections?: number;
  /** Called once per bound socket, with the address actually obtained. */
  readonly onListen?: (address: Deno.NetAddr | Deno.UnixAddr) => void;
  /** Called when accepting fails or a socket must be bound again; serving goes on. */
  readonly onError?: (error: ListenError) => void;
}

/** The agent's listening sockets. */
export interface Listener {
  readonly addrs: readonly (Deno.NetAddr | Deno.UnixAddr)[];
  /** The TCP port, or 0 when the agent serves on a Unix socket only. */
  readonly port: number;
  /** Stops accepting, lets requests in flight finish, closes every connection. */
  shutdown(): Promise<void>;
}

/** Raised when a socket cannot be bound where the agent must listen. */
export class ListenError extends Error {
  /** A one-line message for stderr. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ListenError";
  }
}

/**
 * Open connections at most by default: above `max_conn`'s 1000 requests in
 * flight plus `/ping`'s slots, with room for idle keep-alive clients; each
 * costs one descriptor and about 16 KiB. A lower open-file limit is learned
 * at the first `EMFILE`.
 */
export const MAX_OPEN_CONNECTIONS = 1024;
const MAX_CONNECTION_AGE_MS = 61_000;
/** The end of a connection's life in which its answers carry `Connection: close`. */
const CLOSING_GRACE_MS = 1_000;
/** A DNS name or IPv4 address, or a bracketed IPv6 literal, then an optional port. */
const PLAIN_HOST = /^(?:[A-Za-z0-9._~-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$/;

/**
 * Refuses to start while `DENO_SERVE_ADDRESS` is set, whatever its value:
 * it exists to move or add a server's listener, which an agent bound to
 * loopback must never have. `value` is the variable as read (undefined:
 * unset).
 */
export function refuseServeAddressOverride(value: string | undefined): void {
  if (value === undefined) return;
  throw new ListenError(
    "DENO_SERVE_ADDRESS is set: unset it to start the agent (it would move or add a listener; the agent listens on 127.0.0.1:<http_port> only)",
  );
}

/**
 * Serves on the given loopback addresses and Unix socket until shut down.
 * A bound address other than the one asked for is refused.
 */
export async function listen(
  handler: Handler,
  options: ListenOptions,
): Promise<Listener> {
  const addresses = options.addresses ?? ["127.0.0.1"];
  const ageMs = options.maxConnectionAgeMs ?? MAX_CONNECTION_AGE_MS;
  const pool = new ConnectionPool(rejectingBadHost(handler), {
    maxOpenConnections: options.maxOpenConnections ?? MAX_OPEN_CONNECTIONS,
    maxConnectionAgeMs: ageMs,
    closingGraceMs: Math.min(CLOSING_GRACE_MS, ageMs / 4),
  });
  const sockets: BoundSocket[] = [];
  let port = options.port;
  try {
    for (const hostname of addresses) {
      const first = bindTcp(hostname, port);
      // Every address shares the port the first one got.
      const bound = first.addr.port;
      port = bound;
      sockets.push({ listener: first, rebind: () => bindTcp(hostname, bound) });
    }
    const socket = options.unixSocket;
    if (socket !== undefined) {
      await refuseLiveSocket(socket.path);
      const unix = new UnixSocketFile(socket);
      sockets.push({ listener: unix.bind(), rebind: () => unix.bind(), unix });
    }
  } catch (error) {
    for (const socket of sockets) close(socket);
    throw error;
  }
  const loops = sockets.map((socket) =>
    new AcceptLoop(socket.listener, pool, {
      rebind: socket.rebind,
      onError: (error, what) =>
        options.onError?.(acceptFailure(error, what, socket.listener.addr)),
    })
  );
  for (const socket of sockets) {
    options.onListen?.(socket.listener.addr as Deno.NetAddr | Deno.UnixAddr);
  }

  return {
    addrs: sockets.map((socket) =>
      socket.listener.addr as Deno.NetAddr | Deno.UnixAddr
    ),
    port: addresses.length > 0 ? port : 0,
    async shutdown() {
      await Promise.all(loops.map((loop) => loop.stop()));
      await pool.shutdown();
      for (const socket of sockets) socket.unix?.remove();
    },
  };
}

/** A listening socket and how to bind it again. */
interface BoundSocket {
  readonly listener: Deno.Listener;
  readonly rebind: () => Deno.Listener;
  readonly unix?: UnixSocketFile;
}

function close(socket: BoundSocket): void {
  try {
    socket.listener.close();
  } catch {
    // Already closed.
  }
  socket.unix?.remove();
}

/**
 * Answers 400 to a Host header that would not stay the URL's authority; the
 * handler answers 400 to one that is shaped right but does not parse.
 */
function rejectingBadHost(handler: Handler): Handler {
  return (request, info) => {
    const host = request.headers.get("host");
    if (host !== null && !PLAIN_HOST.test(host)) {
      return new Response(null, { status: 400 });
    }
    return handler(request, info);
  };
}

function bindTcp(hostname: ListenAddress, port: number): Deno.TcpListener {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port });
  } catch (error) {
    throw new ListenError(listenFailure(error, hostname, port), {
      cause: error,
    });
  }
  const { addr } = listener;
  if (addr.hostname !== hostname || (port !== 0 && addr.port !== port)) {
    listener.close();
    throw new ListenError(
      `Refusing to serve on ${
        bracketed(addr.hostname)
      }:${addr.port}: the agent listens on ${
        bracketed(hostname)
      }:<http_port> only`,
    );
  }
  return listener;
}

/** Where clients reach a bound socket: `http://[::1]:2773`, `unix:/run/a.sock`. */
export function addressUrl(address: Deno.NetAddr | Deno.UnixAddr): string {
  return "path" in address
    ? `unix:${address.path}`
    : `http://${bracketed(address.hostname)}:${address.port}`;
}

/** A host as URLs and Deno's permission flags write it: IPv6 in brackets. */
function bracketed(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function listenFailure(
  error: unknown,
  hostname: ListenAddress,
  port: number,
): string {
  const where = `${bracketed(hostname)}:${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `Could not listen on ${where}: the port is already in use`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `Could not listen on ${where}: the sandbox does not grant it (${
      grantHint(`--allow-net=${where}`)
    })`;
  }
  return `Could not listen on ${where}: ${firstLine(error)}`;
}

/** The line for an accept or rebind failure; the agent keeps serving meanwhile. */
function acceptFailure(
  error: unknown,
  what: "accept" | "rebind",
  address: Deno.Addr,
): ListenError {
  const where = addressUrl(address as Deno.NetAddr | Deno.UnixAddr);
  if (error instanceof ListenError) {
    return new ListenError(`Could not bind ${where} again: ${error.message}`, {
      cause: error,
    });
  }
  const why = isOutOfFiles(error)
    ? "out of file descriptors; closing the oldest idle connections"
    : firstLine(error);
  return new ListenError(
    what === "accept"
      ? `Could not accept a connection on ${where}: ${why}`
      : `Could not bind ${where} again: ${why}`,
    { cause: error },
  );
}
