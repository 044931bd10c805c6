/**
 * HTTP/1.x over a raw TCP socket to 127.0.0.1, for requests `fetch` refuses
 * to send (control characters, duplicate or conflicting framing headers,
 * pipelining, slow drips). Every read is bounded: a server that neither
 * answers nor closes fails the test instead of hanging it.
 *
 * @module
 */

/** One parsed HTTP response. */
export interface RawResponse {
  /** `HTTP/1.1` or `HTTP/1.0`. */
  readonly version: string;
  readonly status: number;
  readonly headers: Headers;
  /** The body as UTF-8 text (chunked framing removed). */
  readonly body: string;
}

/** What one exchange produced. */
export interface RawExchange {
  /** The complete responses received, in order. */
  readonly responses: RawResponse[];
  /** Everything received, bytes as latin1 characters. */
  readonly received: string;
  /** Whether the server closed (or reset) the connection. */
  readonly isClosed: boolean;
}

/** Options of {@link RawConnection.read} and {@link exchange}. */
export interface ReadOptions {
  /** Stop once this many complete responses arrived; default: read until closed. */
  readonly responses?: number;
  /** Fail with {@link RawTimeoutError} after this long; default 5000 ms. */
  readonly timeoutMs?: number;
}

/** The server neither answered as expected nor closed within the time allowed. */
export class RawTimeoutError extends Error {
  /** `received` is what arrived before the time ran out. */
  constructor(message: string, readonly received: string) {
    super(message);
    this.name = "RawTimeoutError";
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;
const LATIN1 = new TextDecoder("latin1");
const UTF8 = new TextDecoder();

/** Bytes of a string written one byte per character (latin1); higher code points are UTF-8. */
export function rawBytes(text: string): Uint8Array {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\xff]*$/.test(text)) {
    return Uint8Array.from(text, (char) => char.charCodeAt(0));
  }
  return new TextEncoder().encode(text);
}

/** A client socket to 127.0.0.1 that writes raw bytes and parses what comes back. */
export class RawConnection {
  readonly #conn: Deno.Conn;
  #received = new Uint8Array(0);
  #isClosed = false;
  #reading: Promise<void> | undefined;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to `127.0.0.1:<port>`. */
  static async open(port: number): Promise<RawConnection> {
    return new RawConnection(
      await Deno.connect({ hostname: "127.0.0.1", port }),
    );
  }

  /** Whether the server has closed the connection (as seen by the last read). */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * Writes all of `data`; resolves false instead of throwing when the server
   * has already closed or reset the connection.
   */
  async write(data: string | Uint8Array): Promise<boolean> {
    const bytes = typeof data === "string" ? rawBytes(data) : data;
    try {
      for (let sent = 0; sent < bytes.length;) {
        sent += await this.#conn.write(bytes.subarray(sent));
      }
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes `data` one byte every `intervalMs` until done or `signal` aborts;
   * resolves false when the server closed the connection first.
   */
  async drip(
    data: string,
    options: { intervalMs: number; signal?: AbortSignal },
  ): Promise<boolean> {
    for (const byte of rawBytes(data)) {
      if (options.signal?.aborted) return true;
      if (!await this.write(Uint8Array.of(byte))) return false;
      await abortableDelay(options.intervalMs, options.signal);
    }
    return true;
  }

  /** Reads until `options.responses` responses or the close; throws {@link RawTimeoutError} on time-out. */
  async read(options: ReadOptions = {}): Promise<RawExchange> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Promise.withResolvers<"timeout">();
    const timer = setTimeout(() => deadline.resolve("timeout"), timeoutMs);
    try {
      for (;;) {
        const exchange = this.#snapshot();
        if (exchange.isClosed) return exchange;
        const wanted = options.responses;
        if (wanted !== undefined && exchange.responses.length >= wanted) {
          return exchange;
        }
        this.#reading ??= this.#readChunk();
        if (await Promise.race([this.#reading, deadline.promise])) {
          throw new RawTimeoutError(
            `no ${
              wanted ?? "closing"
            } answer within ${timeoutMs} ms; received ${
              JSON.stringify(exchange.received.slice(0, 200))
            }`,
            exchange.received,
          );
        }
        this.#reading = undefined;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the socket (no error if already closed). */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #readChunk(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    let count: number | null;
    try {
      count = await this.#conn.read(buffer);
    } catch {
      count = null; // reset by the server, or closed here
    }
    if (count === null) {
      this.#isClosed = true;
      return;
    }
    const joined = new Uint8Array(this.#received.length + count);
    joined.set(this.#received);
    joined.set(buffer.subarray(0, count), this.#received.length);
    this.#received = joined;
  }

  #snapshot(): RawExchange {
    return {
      responses: parseResponses(this.#received, this.#isClosed),
      received: LATIN1.decode(this.#received),
      isClosed: this.#isClosed,
    };
  }
}

/**
 * Opens a connection, writes `request`, reads (see {@link ReadOptions}) and
 * closes. A write the server cut short is not an error: what it answered is.
 *
 * @example
 * ```ts
 * const { responses } = await exchange(port, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
 * responses[0].status; // 200
 * ```
 */
export async function exchange(
  port: number,
  request: string | Uint8Array,
  options: ReadOptions = {},
): Promise<RawExchange> {
  using conn = await RawConnection.open(port);
  const writing = conn.write(request);
  const result = await conn.read(options);
  await writing;
  return result;
}

/** A request head with CRLF line ends and a blank line after the headers. */
export function requestHead(
  requestLine: string,
  headers: readonly string[] = [],
): string {
  return [requestLine, ...headers, "", ""].join("\r\n");
}

/** The complete responses in `bytes`; with `isClosed`, a close-delimited body counts. */
export function parseResponses(
  bytes: Uint8Array,
  isClosed = false,
): RawResponse[] {
  const text = LATIN1.decode(bytes);
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", offset);
    if (headEnd < 0) break;
    const [statusLine, ...lines] = text.slice(offset, headEnd).split("\r\n");
    const match = /^(HTTP\/1\.[01]) (\d{3})/.exec(statusLine);
    if (!match) break;
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const bodyStart = headEnd + 4;
    const status = Number(match[2]);
    // 1xx, 204 and 304 never carry a body.
    const body = status < 200 || status === 204 || status === 304
      ? { content: "", end: bodyStart }
      : readBody(text, bodyStart, headers, isClosed);
    if (body === undefined) break;
    responses.push({
      version: match[1],
      status,
      headers,
      body: UTF8.decode(rawBytes(body.content)),
    });
    offset = body.end;
  }
  return responses;
}

function readBody(
  text: string,
  start: number,
  headers: Headers,
  isClosed: boolean,
): { content: string; end: number } | undefined {
  const length = headers.get("content-length");
  if (length !== null) {
    const end = start + Number(length);
    return end <= text.length
      ? { content: text.slice(start, end), end }
      : undefined;
  }
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    let content = "";
    let at = start;
    for (;;) {
      const lineEnd = text.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(text.slice(at, lineEnd), 16);
      if (Number.isNaN(size)) return undefined;
      const dataEnd = lineEnd + 2 + size;
      if (dataEnd + 2 > text.length) return undefined;
      if (size === 0) return { content, end: dataEnd + 2 };
      content += text.slice(lineEnd + 2, dataEnd);
      at = dataEnd + 2;
    }
  }
  // Neither: the body runs to the close.
  return isClosed
    ? { content: text.slice(start), end: text.length }
    : undefined;
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
