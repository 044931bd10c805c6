/**
 * The agent's open connections, on every socket it listens on, and the
 * loops that accept them. Any local process can connect, so the pool is
 * bounded by what the process can hold, not by what clients ask for:
 *
 * - At most `maxOpenConnections` are open (idle ones included). At the cap,
 *   the oldest idle connection (no request in the handler: idle keep-alive,
 *   silent or half-sent) is closed to make room; when none is idle, the new
 *   connection is closed instead. Requests in flight are never cut.
 * - Deno offers no way to read the open-file limit, so the pool learns it:
 *   when accepting fails with `EMFILE`, the cap drops below the number of
 *   connections open at that moment (a quarter is kept for upstream calls
 *   and files) and the oldest idle connections are closed down to it.
 * - Each connection lives at most `maxConnectionAgeMs`: in its last
 *   `closingGraceMs` its answers carry `Connection: close`, so a busy
 *   keep-alive client leaves after its current request rather than have
 *   the socket closed under the next one; then it is shut down (a request
 *   in flight finishes first). Age is tracked per connection, so the
 *   listening socket is never replaced and never shares its port.
 * - An accept loop survives accept errors, and binds its socket again at
 *   once if it is closed under it.
 *
 * @module
 */

import {
  connectionServer,
  type HttpConnection,
  serveConnection,
} from "./http_connection.ts";
import type { Handler } from "./listener.ts";

/** Limits of a {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** Open connections at most, idle ones included. */
  readonly maxOpenConnections: number;
  /** How long a connection may live. */
  readonly maxConnectionAgeMs: number;
  /** The end of a connection's life in which its answers carry `Connection: close`. */
  readonly closingGraceMs: number;
}

/** Never learn a cap lower than this: a tiny open-file limit still serves someone. */
const MIN_OPEN_CONNECTIONS = 8;
/** How long an accept loop waits after an error before it accepts again. */
const ACCEPT_PAUSE_MS = 10;
/** How long a socket that cannot be bound again waits before the next try. */
const REBIND_PAUSE_MS = 50;
/** At most one report a second: a sustained attack must not flood the log. */
const REPORT_INTERVAL_MS = 1_000;

/** What a connection's handler sees of it. */
interface ConnectionState {
  /** Requests in the handler; 0 means idle (or half-sent). */
  inFlight: number;
  /** In its last `closingGraceMs`: answers carry `Connection: close`. */
  isRetiring: boolean;
}

interface Tracked {
  readonly served: HttpConnection;
  readonly state: ConnectionState;
  isClosing: boolean;
  readonly timers: ReturnType<typeof setTimeout>[];
}

/** The open connections of every socket, under one cap. */
export class ConnectionPool {
  readonly #handler: Handler;
  readonly #options: ConnectionPoolOptions;
  readonly #serve = connectionServer();
  /** In accept order: the first idle one is the oldest idle one. */
  readonly #open = new Set<Tracked>();
  #closing = 0;
  #cap: number;
  #isShutDown = false;

  /** Serves `handler` on each admitted connection. */
  constructor(handler: Handler, options: ConnectionPoolOptions) {
    this.#handler = handler;
    this.#options = options;
    this.#cap = options.maxOpenConnections;
  }

  /** Connections open and not closing. */
  get size(): number {
    return this.#open.size - this.#closing;
  }

  /** The cap in force: the configured one, or lower once `EMFILE` taught it. */
  get cap(): number {
    return this.#cap;
  }

  /** Serves `connection`, making room first; false when it had to be closed. */
  admit(connection: Deno.Conn): boolean {
    if (
      this.#isShutDown || (this.size >= this.#cap && !this.#closeOldestIdle())
    ) {
      connection.close();
      return false;
    }
    const state: ConnectionState = { inFlight: 0, isRetiring: false };
    const served = serveConnection(
      this.#serve,
      connection,
      this.#tracking(state),
    );
    const tracked: Tracked = { served, state, isClosing: false, timers: [] };
    this.#open.add(tracked);
    const { maxConnectionAgeMs, closingGraceMs } = this.#options;
    tracked.timers.push(
      setTimeout(
        () => state.isRetiring = true,
        maxConnectionAgeMs - closingGraceMs,
      ),
      setTimeout(() => this.#close(tracked), maxConnectionAgeMs),
    );
    for (const timer of tracked.timers) Deno.unrefTimer(timer);
    tracked.served.finished.then(() => {
      for (const timer of tracked.timers) clearTimeout(timer);
      if (tracked.isClosing) this.#closing--;
      this.#open.delete(tracked);
    });
    return true;
  }

  /**
   * Accepting failed with `EMFILE` or `ENFILE`. When the cap did not keep the
   * pool below the open-file limit (it holds no more than the cap), the cap
   * drops below what is open now; more than the cap means closing ones have
   * not let go yet, which is no lesson. Then the oldest idle connections are
   * closed down to the cap (at least one), so descriptors come free.
   */
  onOutOfFiles(): void {
    const held = this.#open.size;
    if (held <= this.#cap) {
      this.#cap = Math.max(
        MIN_OPEN_CONNECTIONS,
        held - Math.max(MIN_OPEN_CONNECTIONS, Math.floor(held / 4)),
      );
    }
    do {
      if (!this.#closeOldestIdle()) break;
    } while (this.size > this.#cap);
  }

  /** Lets requests in flight finish and closes every connection. */
  async shutdown(): Promise<void> {
    this.#isShutDown = true;
    const all = [...this.#open];
    for (const tracked of all) this.#close(tracked);
    await Promise.all(all.map((tracked) => tracked.served.finished));
  }

  /** The handler for one connection: counts its requests, adds `Connection: close` once it retires. */
  #tracking(state: ConnectionState): Handler {
    const finish = (response: Response) => {
      state.inFlight--;
      return state.isRetiring ? closingConnection(response) : response;
    };
    const fail = (error: unknown): never => {
      state.inFlight--;
      throw error;
    };
    return (request, info) => {
      state.inFlight++;
      let answer: Response | Promise<Response>;
      try {
        answer = this.#handler(request, info);
      } catch (error) {
        return fail(error);
      }
      // A plain Response goes back without another turn, as the handler meant.
      return answer instanceof Response
        ? finish(answer)
        : answer.then(finish, fail);
    };
  }

  #closeOldestIdle(): boolean {
    for (const tracked of this.#open) {
      if (tracked.state.inFlight === 0 && !tracked.isClosing) {
        this.#close(tracked);
        return true;
      }
    }
    return false;
  }

  #close(tracked: Tracked): void {
    if (tracked.isClosing) return;
    tracked.isClosing = true;
    this.#closing++;
    tracked.served.shutdown();
  }
}

/** Asks the client to close the connection after this answer (RFC 9112, 9.6). */
function closingConnection(response: Response): Response {
  try {
    response.headers.set("connection", "close");
  } catch {
    // Immutable headers: the shutdown at the age limit closes it instead.
  }
  return response;
}

/** How an {@link AcceptLoop} reports trouble; it keeps serving. */
export interface AcceptLoopOptions {
  /** Binds the socket again after it was closed under the loop. */
  readonly rebind: () => Deno.Listener | Promise<Deno.Listener>;
  /** Accepting or binding again failed; called once per episode, at most once a second. */
  readonly onError?: (error: unknown, what: "accept" | "rebind") => void;
}

/** Accepts connections on one socket into the pool until stopped. */
export class AcceptLoop {
  #listener: Deno.Listener;
  readonly #pool: ConnectionPool;
  readonly #options: AcceptLoopOptions;
  #isStopped = false;
  #isFailing = false;
  #reportedAt = -Infinity;
  /** Resolves when the loop has stopped. */
  readonly done: Promise<void>;

  /** Starts accepting on `listener`. */
  constructor(
    listener: Deno.Listener,
    pool: ConnectionPool,
    options: AcceptLoopOptions,
  ) {
    this.#listener = listener;
    this.#pool = pool;
    this.#options = options;
    this.done = this.#run();
  }

  /** The socket accepted on now (a new one after a rebind). */
  get listener(): Deno.Listener {
    return this.#listener;
  }

  /** Stops accepting and closes the socket; connections stay with the pool. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.done;
  }

  async #run(): Promise<void> {
    while (!this.#isStopped) {
      let connection: Deno.Conn;
      try {
        connection = await this.#listener.accept();
      } catch (error) {
        if (this.#isStopped) return;
        if (isListenerGone(error)) {
          await this.#rebind();
          continue;
        }
        this.#report(error, "accept");
        if (isOutOfFiles(error)) this.#pool.onOutOfFiles();
        await pause(ACCEPT_PAUSE_MS);
        continue;
      }
      this.#isFailing = false;
      if (this.#isStopped) {
        connection.close();
        return;
      }
      this.#pool.admit(connection);
    }
  }

  /** Binds again until it works or the loop stops. */
  async #rebind(): Promise<void> {
    while (!this.#isStopped) {
      try {
        this.#listener = await this.#options.rebind();
        this.#isFailing = false;
        if (this.#isStopped) this.#listener.close();
        return;
      } catch (error) {
        this.#report(error, "rebind");
        if (isOutOfFiles(error)) this.#pool.onOutOfFiles();
        await pause(REBIND_PAUSE_MS);
      }
    }
  }

  #report(error: unknown, what: "accept" | "rebind"): void {
    if (this.#isFailing) return;
    this.#isFailing = true;
    const now = performance.now();
    if (now - this.#reportedAt < REPORT_INTERVAL_MS) return;
    this.#reportedAt = now;
    this.#options.onError?.(error, what);
  }
}

/** `EMFILE` (os error 24) or `ENFILE` (23): Deno has no error class for them. */
export function isOutOfFiles(error: unknown): boolean {
  const text = error instanceof Error
    ? `${error.message} ${String(error.cause ?? "")}`
    : "";
  return /\bos error 2[34]\b|too many open files/i.test(text);
}

function isListenerGone(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
