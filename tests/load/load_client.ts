/**
 * One load generator process: keeps `connections` HTTP/1.1 keep-alive
 * connections busy with GET requests, closed-loop, and prints one JSON line
 * of what it measured ({@linkcode ClientReport}). Written on raw sockets so
 * the client costs far less CPU than the servers it drives.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/load/load_client.ts '<ClientPlan JSON>'
 * ```
 *
 * @module
 */

/** What one client process is told to do. */
export interface ClientPlan {
  /** `http://127.0.0.1:<port>/<path and query>` */
  readonly url: string;
  /** Extra request headers (the token). */
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  /** Epoch ms at which every client process starts sending. */
  readonly startAtMs: number;
  /** Sent but not measured, from `startAtMs`. */
  readonly warmUpMs: number;
  /** Measured, after the warm-up. */
  readonly durationMs: number;
}

/** What one client process measured in its window. */
export interface ClientReport {
  /** Requests started in the window and answered 200. */
  readonly ok: number;
  /** Requests started in the window answered with another status. */
  readonly failed: number;
  /** Connections the server closed that had to be opened again. */
  readonly reconnects: number;
  /** Latency of each request of the window, in ms. */
  readonly latenciesMs: number[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEADER_END = encoder.encode("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CONNECTION_CLOSE = /\r\nconnection:\s*close/i;
const READ_CHUNK = 64 * 1024;

/** A response read off the socket: status, and whether the server ends the connection. */
interface Answer {
  readonly status: number;
  readonly isLast: boolean;
}

/** One keep-alive connection that sends a fixed request and reads whole answers. */
class Connection {
  readonly #address: Deno.ConnectOptions;
  readonly #request: Uint8Array;
  #conn: Deno.TcpConn | undefined;
  #buffer = new Uint8Array(READ_CHUNK);
  #filled = 0;

  constructor(address: Deno.ConnectOptions, request: Uint8Array) {
    this.#address = address;
    this.#request = request;
  }

  async open(): Promise<void> {
    this.#conn = await Deno.connect(this.#address);
    this.#conn.setNoDelay(true);
    this.#filled = 0;
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch {
      // Already closed by the peer.
    }
    this.#conn = undefined;
  }

  /** Sends the request and reads its answer; undefined if the peer closed first. */
  async exchange(): Promise<Answer | undefined> {
    const conn = this.#conn!;
    try {
      await writeAll(conn, this.#request);
    } catch {
      return undefined;
    }
    let headerEnd = -1;
    while ((headerEnd = indexOf(this.#buffer, this.#filled, HEADER_END)) < 0) {
      if (!await this.#fill()) return undefined;
    }
    const head = decoder.decode(this.#buffer.subarray(0, headerEnd));
    const status = Number(head.slice(9, 12));
    const length = CONTENT_LENGTH.exec(head);
    if (length === null) {
      throw new Error(
        `answer without content-length: ${head.split("\r\n")[0]}`,
      );
    }
    const total = headerEnd + HEADER_END.length + Number(length[1]);
    while (this.#filled < total) {
      if (!await this.#fill()) return undefined;
    }
    this.#buffer.copyWithin(0, total, this.#filled);
    this.#filled -= total;
    return { status, isLast: CONNECTION_CLOSE.test(head) };
  }

  async #fill(): Promise<boolean> {
    if (this.#filled === this.#buffer.length) {
      const bigger = new Uint8Array(this.#buffer.length * 2);
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
    let read: number | null;
    try {
      read = await this.#conn!.read(this.#buffer.subarray(this.#filled));
    } catch {
      return false;
    }
    if (read === null) return false;
    this.#filled += read;
    return true;
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

function indexOf(
  haystack: Uint8Array,
  end: number,
  needle: Uint8Array,
): number {
  outer: for (let i = 0; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** The request bytes for `plan`: HTTP/1.1, keep-alive. */
function requestBytes(plan: ClientPlan): Uint8Array {
  const url = new URL(plan.url);
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
  ];
  for (const [name, value] of Object.entries(plan.headers)) {
    lines.push(`${name}: ${value}`);
  }
  return encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
}

/** Drives `plan` to its end and reports the measured window. */
export async function runClient(plan: ClientPlan): Promise<ClientReport> {
  const url = new URL(plan.url);
  const address = { hostname: url.hostname, port: Number(url.port) };
  const request = requestBytes(plan);
  const connections = Array.from(
    { length: plan.connections },
    () => new Connection(address, request),
  );
  await Promise.all(connections.map((connection) => connection.open()));
  // performance.now() has no common origin across processes; Date.now() has.
  const offset = Date.now() - performance.now();
  const measureFrom = plan.startAtMs + plan.warmUpMs - offset;
  const measureUntil = measureFrom + plan.durationMs;
  const report = {
    ok: 0,
    failed: 0,
    reconnects: 0,
    latenciesMs: [] as number[],
  };
  const wait = plan.startAtMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  await Promise.all(connections.map(async (connection) => {
    while (true) {
      const started = performance.now();
      if (started >= measureUntil) break;
      let answer = await connection.exchange();
      if (answer === undefined) {
        // The server closed an idle keep-alive connection: reopen, resend.
        report.reconnects++;
        connection.close();
        await connection.open();
        answer = await connection.exchange();
        if (answer === undefined) throw new Error("connection lost twice");
      }
      const finished = performance.now();
      if (answer.isLast) {
        connection.close();
        await connection.open();
      }
      if (started < measureFrom) continue;
      if (answer.status === 200) report.ok++;
      else report.failed++;
      report.latenciesMs.push(Math.round((finished - started) * 1000) / 1000);
    }
    connection.close();
  }));
  return report;
}

if (import.meta.main) {
  const plan = JSON.parse(Deno.args[0] ?? "null") as ClientPlan | null;
  if (plan === null || typeof plan.url !== "string") {
    console.error("Usage: load_client.ts '<ClientPlan JSON>'");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await runClient(plan)));
}
