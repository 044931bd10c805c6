import assert from "node:assert/strict";
import {
  AgentHttpHandler,
  asNetworkError,
  NetworkError,
} from "../src/fetch_handler.ts";
import { classify } from "../src/secrets_client.ts";

/** `promise`'s value, or `late` when it takes over 5 s. */
async function within<T>(
  promise: Promise<T>,
  late: string,
): Promise<T | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(late), 5_000);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** A GET of `/` on 127.0.0.1:`port`, as the SDK hands it to the handler. */
function getRequest(port: number): Parameters<AgentHttpHandler["handle"]>[0] {
  return {
    protocol: "http:",
    hostname: "127.0.0.1",
    port,
    method: "GET",
    path: "/",
    query: {},
    headers: {},
  } as unknown as Parameters<AgentHttpHandler["handle"]>[0];
}

/** Reads `connection` until the peer ends it (EOF or reset). */
async function untilClosed(connection: Deno.Conn): Promise<"closed"> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while ((await connection.read(buffer)) !== null) {
      // Whatever the client sent.
    }
  } catch {
    // Reset.
  }
  return "closed";
}

function fetchFailure(detail: string): TypeError {
  return new TypeError("fetch failed", { cause: new Error(detail) });
}

Deno.test("Deno's fetch failures get the Node code of their kind, and classify as connection errors", () => {
  const cases: [string, string][] = [
    [
      "error sending request for url (https://x/): client error (Connect): tcp connect error: Connection refused (os error 111)",
      "ECONNREFUSED",
    ],
    [
      "error sending request for url (https://x/): client error (Connect): dns error: failed to lookup address information",
      "ENOTFOUND",
    ],
    [
      "error sending request for url (https://x/): connection closed before message completed",
      "ECONNRESET",
    ],
    [
      "error sending request for url (https://x/): client error (Connect): invalid peer certificate: UnknownIssuer",
      "ECONNRESET",
    ],
  ];
  for (const [detail, code] of cases) {
    const error = asNetworkError(fetchFailure(detail));
    assert.ok(error instanceof NetworkError, detail);
    assert.equal(error.code, code, detail);
    assert.equal(error.message, detail);
    assert.deepEqual(classify(error), { kind: "connection" });
  }
});

Deno.test("other errors pass through unchanged", () => {
  const invalid = new TypeError("Invalid URL");
  assert.equal(asNetworkError(invalid), invalid);
  const timeout = Object.assign(new Error("timed out"), {
    name: "TimeoutError",
  });
  assert.equal(asNetworkError(timeout), timeout);
  assert.equal(asNetworkError("text"), "text");
});

Deno.test("a request the handler gives up on (its timeout) has its fetch aborted, so a stalled connection is closed", async () => {
  // A server that accepts and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const handler = new AgentHttpHandler({ requestTimeout: 100 });
  const request = getRequest(listener.addr.port);
  try {
    await assert.rejects(handler.handle(request), { name: "TimeoutError" });
    using connection = await accepted;
    // The request arrives, then the connection ends (EOF or reset); without
    // the abort it stays open and the bound answers instead.
    assert.equal(
      await within(untilClosed(connection), "still open"),
      "closed",
    );
  } finally {
    handler.destroy();
    listener.close();
  }
});

Deno.test("a body that stops arriving fails with TimeoutError within the timeout, and its connection is closed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    using connection = await listener.accept();
    await connection.read(new Uint8Array(64 * 1024));
    await connection.write(
      new TextEncoder().encode(
        'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":',
      ),
    );
    // Then nothing more: wait for the client to give up and close.
    return await untilClosed(connection);
  })();
  const handler = new AgentHttpHandler({ requestTimeout: 100 });
  const request = getRequest(listener.addr.port);
  try {
    const { response } = await handler.handle(request);
    assert.equal(response.statusCode, 200);
    const body = response.body as ReadableStream<Uint8Array>;
    const read = new Response(body).text().then(
      () => "read",
      (error: Error) => error.name,
    );
    // Bounds against a hang, so a regression fails instead.
    assert.equal(await within(read, "hung"), "TimeoutError");
    assert.equal(await within(serving, "still open"), "closed");
  } finally {
    handler.destroy();
    listener.close();
  }
});
