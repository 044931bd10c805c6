/**
 * Binds the handler to loopback (127.0.0.1, `[::1]`, or both) and optionally
 * a Unix domain socket with `Deno.serve`, and bounds connection
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
 * A Unix socket is bound at `<path>.new/socket`, in a folder only the agent
 * may enter, given the configured mode, then renamed over `<path>`: the
 * rename is atomic, so a client always finds a socket there, and each
 * rotation swaps in the next generation the same way. A socket at `<path>`
 * that still answers belongs to another process and is left alone; one that
 * does not is a leftover and is replaced.
 *
 * `Deno.serve` also builds `request.url` as `http://<Host header><target>`
 * without checking the Host: a Host holding `/`, `?` or `#` would move the
 * path the handler routes on (and logs), and one the URL parser rejects makes
 * `new URL(request.url)` throw. Such a request gets `400`, as RFC 9112 asks
 * for an invalid Host, before the handler sees it.
 *
 * @module
 */

import { grantHint } from "./startup_error.ts";

/** Serves one request; `Deno.serve` calls it, with the client's address. */
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
  /** Called once per bound socket, with the address actually obtained. */
  readonly onListen?: (address: Deno.NetAddr | Deno.UnixAddr) => void;
  /** Called when a new generation cannot bind; the current one keeps serving. */
  readonly onRotationError?: (error: ListenError) => void;
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

/** The loopback addresses the agent may listen on. */
export type ListenAddress = "127.0.0.1" | "::1";

const MAX_CONNECTION_AGE_MS = 61_000;
/** How long a retiring generation tells its clients to leave before it closes what is left. */
const RETIRE_GRACE_MS = 1_000;
/** A DNS name or IPv4 address, or a bracketed IPv6 literal, then an optional port. */
const PLAIN_HOST = /^(?:[A-Za-z0-9._~-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$/;

/**
 * Serves on the given loopback addresses and Unix socket, each in
 * generations of at most `maxConnectionAgeMs`. `DENO_SERVE_ADDRESS` can
 * redirect `Deno.serve`, so each bound address is checked and anything else
 * is shut down at once.
 */
export async function listen(
  handler: Handler,
  options: ListenOptions,
): Promise<Listener> {
  const addresses = options.addresses ?? ["127.0.0.1"];
  // reusePort would let a second agent share a busy port: refuse that first.
  if (options.port !== 0) {
    for (const hostname of addresses) probePortFree(hostname, options.port);
  }
  handler = rejectingBadHost(handler);
  const ageMs = options.maxConnectionAgeMs ?? MAX_CONNECTION_AGE_MS;
  const graceMs = Math.min(RETIRE_GRACE_MS, ageMs / 4);
  const groups: GenerationGroup[] = [];
  let port = options.port;
  try {
    for (const hostname of addresses) {
      const first = await serveTcp(handler, hostname, port);
      // Later generations bind the port the first one got.
      const bound = (first.server.addr as Deno.NetAddr).port;
      port = bound;
      groups.push(
        new GenerationGroup(
          first,
          () => serveTcp(handler, hostname, bound),
          graceMs,
        ),
      );
    }
    const socket = options.unixSocket;
    if (socket !== undefined) {
      await refuseLiveSocket(socket.path);
      groups.push(
        new GenerationGroup(
          serveUnix(handler, socket),
          () => serveUnix(handler, socket),
          graceMs,
        ),
      );
    }
  } catch (error) {
    await Promise.all(groups.map((group) => group.shutdown()));
    throw error;
  }
  const timer = setInterval(() => {
    for (const group of groups) group.rotate(options.onRotationError);
  }, ageMs - graceMs);
  Deno.unrefTimer(timer);
  for (const group of groups) options.onListen?.(group.addr);

  return {
    addrs: groups.map((group) => group.addr),
    port: addresses.length > 0 ? port : 0,
    async shutdown() {
      clearInterval(timer);
      await Promise.all(groups.map((group) => group.shutdown()));
    },
  };
}

/** One `Deno.serve`; once retiring, its answers close their connections. */
interface Generation {
  readonly server: Deno.HttpServer<Deno.NetAddr | Deno.UnixAddr>;
  isRetiring: boolean;
  /** Runs after the server has shut down (a Unix socket removes its file). */
  readonly afterShutdown?: () => void;
}

/** The generations of one socket: the current one, and those retiring. */
class GenerationGroup {
  readonly addr: Deno.NetAddr | Deno.UnixAddr;
  #current: Generation;
  readonly #bind: () => Generation | Promise<Generation>;
  readonly #graceMs: number;
  readonly #retiring = new Set<Generation>();
  readonly #closing = new Set<Promise<void>>();

  /** `bind` makes each later generation. */
  constructor(
    first: Generation,
    bind: () => Generation | Promise<Generation>,
    graceMs: number,
  ) {
    this.#current = first;
    this.addr = first.server.addr;
    this.#bind = bind;
    this.#graceMs = graceMs;
  }

  async rotate(onError?: (error: ListenError) => void): Promise<void> {
    let next: Generation;
    try {
      next = await this.#bind();
    } catch (error) {
      onError?.(error as ListenError);
      return;
    }
    const previous = this.#current;
    this.#current = next;
    previous.isRetiring = true;
    this.#retiring.add(previous);
    const grace = setTimeout(() => {
      if (this.#retiring.has(previous)) this.#close(previous);
    }, this.#graceMs);
    Deno.unrefTimer(grace);
  }

  async shutdown(): Promise<void> {
    for (const generation of [this.#current, ...this.#retiring]) {
      this.#close(generation);
    }
    await Promise.all(this.#closing);
    this.#current.afterShutdown?.();
  }

  #close(generation: Generation): void {
    this.#retiring.delete(generation);
    const done = generation.server.shutdown();
    this.#closing.add(done);
    const forget = () => void this.#closing.delete(done);
    done.then(forget, forget);
  }
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
  return (request, info) => {
    const host = request.headers.get("host");
    if (host !== null && !PLAIN_HOST.test(host)) {
      return new Response(null, { status: 400 });
    }
    return handler(request, info);
  };
}

function probePortFree(hostname: ListenAddress, port: number): void {
  try {
    Deno.listen({ hostname, port }).close();
  } catch (error) {
    throw new ListenError(listenFailure(error, hostname, port), {
      cause: error,
    });
  }
}

/** The generation's handler: the same, plus `Connection: close` once retiring. */
function generationHandler(
  handler: Handler,
  generation: { isRetiring: boolean },
): Deno.ServeHandler<Deno.NetAddr | Deno.UnixAddr> {
  return (request, info) => {
    const answer = handler(request, info);
    if (!generation.isRetiring) return answer;
    return answer instanceof Response
      ? closingConnection(answer)
      : answer.then(closingConnection);
  };
}

async function serveTcp(
  handler: Handler,
  hostname: ListenAddress,
  port: number,
): Promise<Generation> {
  const generation = { isRetiring: false };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      reusePort: true,
      onListen: () => {},
    }, generationHandler(handler, generation));
  } catch (error) {
    throw new ListenError(listenFailure(error, hostname, port), {
      cause: error,
    });
  }
  const address = server.addr;
  const isWanted = address.transport === "tcp" &&
    address.hostname === hostname && (port === 0 || address.port === port);
  if (!isWanted) {
    await server.shutdown();
    throw new ListenError(
      redirected(`${address.hostname}:${address.port}`, hostname),
    );
  }
  return Object.assign(generation, { server });
}

function serveUnix(
  handler: Handler,
  socket: UnixSocketOptions,
): Generation {
  const staging = stagingPaths(socket.path);
  const generation = { isRetiring: false };
  let server: Deno.HttpServer<Deno.UnixAddr>;
  let inode: number | null;
  try {
    removeStaging(staging);
    // Bound in a folder only the agent may enter, then given its mode: no
    // other user can connect before the mode applies (a umask would need
    // Deno's whole sys grant, which --allow-sys cannot scope to it).
    Deno.mkdirSync(staging.folder, { mode: 0o700 });
    Deno.chmodSync(staging.folder, 0o700);
    server = Deno.serve({
      path: staging.socket,
      transport: "unix",
      onListen: () => {},
    }, generationHandler(handler, generation));
    Deno.chmodSync(staging.socket, socket.mode);
    inode = Deno.statSync(staging.socket).ino;
    Deno.renameSync(staging.socket, socket.path);
    Deno.removeSync(staging.folder);
  } catch (error) {
    if (error instanceof ListenError) throw error;
    throw new ListenError(unixFailure(error, socket.path), { cause: error });
  }
  // The file is ours to remove only while no newer generation replaced it.
  const afterShutdown = () => {
    try {
      if (Deno.lstatSync(socket.path).ino === inode) {
        Deno.removeSync(socket.path);
      }
    } catch {
      // Already gone.
    }
  };
  return Object.assign(generation, {
    server,
    afterShutdown,
  });
}

/** A socket file that accepts connections belongs to a running process. */
async function refuseLiveSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw new ListenError(unixFailure(error, path), { cause: error });
  }
  if (!info.isSocket) {
    throw new ListenError(
      `Could not listen on unix:${path}: the path exists and is not a socket`,
    );
  }
  let connection: Deno.UnixConn | undefined;
  try {
    connection = await Deno.connect({ transport: "unix", path });
  } catch {
    return;
  }
  connection.close();
  throw new ListenError(
    `Could not listen on unix:${path}: another process is serving on it`,
  );
}

/** Where a generation's socket is bound before it is moved to `path`. */
export function stagingPaths(path: string): { folder: string; socket: string } {
  return { folder: `${path}.new`, socket: `${path}.new/socket` };
}

/** Clears what an earlier run may have left at the staging paths. */
function removeStaging(staging: { folder: string; socket: string }): void {
  try {
    if (Deno.lstatSync(staging.folder).isDirectory) {
      removeIfSocket(staging.socket);
      Deno.removeSync(staging.folder);
    } else {
      removeIfSocket(staging.folder);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function removeIfSocket(path: string): void {
  try {
    if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
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

function redirected(address: string, hostname: string): string {
  return `Refusing to serve on ${address}: the agent listens on ${
    bracketed(hostname)
  }:<http_port> only (is DENO_SERVE_ADDRESS set?)`;
}

// Deno's NotCapable message names the address it was asked for.
const REFUSED_ADDRESS = /net access to "([^"]+)"/;

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
    const asked = REFUSED_ADDRESS.exec(error.message)?.[1];
    // DENO_SERVE_ADDRESS moved the socket somewhere the sandbox rightly refuses.
    if (asked !== undefined && asked !== where) {
      return redirected(asked, hostname);
    }
    return `Could not listen on ${where}: the sandbox does not grant it (${
      grantHint(`--allow-net=${where}`)
    })`;
  }
  return `Could not listen on ${where}: ${
    error instanceof Error ? error.message.split("\n", 1)[0] : String(error)
  }`;
}

function unixFailure(error: unknown, path: string): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `Could not listen on unix:${path}: the sandbox does not grant it (${
      grantHint(
        `--allow-net=unix:${path},unix:${path}.new/socket --allow-read=${path},${path}.new --allow-write=${path},${path}.new`,
      )
    })`;
  }
  if (error instanceof Deno.errors.NotFound) {
    return `Could not listen on unix:${path}: its directory does not exist`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `Could not listen on unix:${path}: permission denied`;
  }
  return `Could not listen on unix:${path}: ${
    error instanceof Error ? error.message.split("\n", 1)[0] : String(error)
  }`;
}
