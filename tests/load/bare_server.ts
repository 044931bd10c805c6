/**
 * The baseline of the load test: a bare `Deno.serve` on 127.0.0.1 that only
 * checks the token header and answers a fixed JSON body of a given size.
 * Run as its own process, as the agent is, so it has an event loop to itself:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/load/bare_server.ts <header> <token> <body bytes>
 * ```
 *
 * Prints `listening on http://127.0.0.1:<port>` and serves until SIGTERM.
 *
 * @module
 */

const JSON_HEADERS = { "content-type": "application/json" };
const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8" };

/** A JSON document of exactly `bytes` bytes (at least 12), all ASCII. */
export function jsonBodyOfSize(bytes: number): string {
  const frame = '{"pad":""}';
  if (!Number.isSafeInteger(bytes) || bytes < frame.length) {
    throw new RangeError(
      `Body size must be an integer of at least ${frame.length} bytes, got ${bytes}`,
    );
  }
  return `{"pad":"${"x".repeat(bytes - frame.length)}"}`;
}

function main([header, token, size]: string[]): void {
  const bytes = Number(size);
  if (!header || !token || !Number.isSafeInteger(bytes)) {
    console.error("Usage: bare_server.ts <header> <token> <body bytes>");
    Deno.exit(2);
  }
  const body = jsonBodyOfSize(bytes);
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        console.log(`listening on http://127.0.0.1:${port}`),
    },
    (request) =>
      request.headers.get(header) === token
        ? new Response(body, { headers: JSON_HEADERS })
        : new Response("Forbidden", { status: 403, headers: TEXT_HEADERS }),
  );
  Deno.addSignalListener("SIGTERM", () => {
    server.shutdown().then(() => Deno.exit(0));
  });
}

if (import.meta.main) main(Deno.args);

/** A running bare server process. */
export interface BareServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** Starts this file as its own `deno` process and waits until it listens. */
export async function startBareServer(
  header: string,
  options: { readonly token: string; readonly bodyBytes: number },
): Promise<BareServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      new URL(import.meta.url).pathname,
      header,
      options.token,
      String(options.bodyBytes),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  const reader = lines.getReader();
  let match: RegExpExecArray | null = null;
  while (match === null) {
    const { value, done } = await reader.read();
    if (done) {
      const { code } = await child.status;
      throw new Error(`The bare server did not start (exit ${code}): ${text}`);
    }
    text += value;
    match = LISTENING.exec(text);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    url: match[1],
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
      await drained;
    },
  };
}
