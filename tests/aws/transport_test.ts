import assert from "node:assert/strict";
import {
  AgentHttpHandler,
  asNetworkError,
  MAX_UPSTREAM_BODY_BYTES,
  NetworkError,
  UpstreamBodyTooLargeError,
} from "../../src/aws/transport.ts";
import { classify } from "../../src/aws/aws_calls.ts";

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

const encoder = new TextEncoder();

/**
 * Serves one connection: reads the request, writes `head`, then calls
 * `write` with a writer that reports whether the peer still takes bytes;
 * resolves with the bytes of body written once the peer is gone.
 */
function serveOnce(
  listener: Deno.Listener,
  head: string,
  write: (send: (bytes: Uint8Array) => Promise<boolean>) => Promise<void>,
): Promise<number> {
  return (async () => {
    using connection = await listener.accept();
    await connection.read(new Uint8Array(64 * 1024));
    await connection.write(encoder.encode(head));
    let written = 0;
    await write(async (bytes) => {
      try {
        let offset = 0;
        while (offset < bytes.byteLength) {
          offset += await connection.write(bytes.subarray(offset));
        }
        written += bytes.byteLength;
        return true;
      } catch {
        return false;
      }
    });
    return written;
  })();
}

/** What reading `body` to its end gives: "read", or the error's name. */
function readOutcome(body: unknown): Promise<string> {
  return new Response(body as ReadableStream<Uint8Array>).arrayBuffer().then(
    () => "read",
    (error: Error) => error.name,
  );
}

Deno.test("a body that drips a byte every 20 ms fails with TimeoutError at the attempt's deadline, though each chunk is on time", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = serveOnce(
    listener,
    "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n",
    async (send) => {
      // At most 500 bytes (10 s): bounded, and far past the 200 ms deadline.
      for (let i = 0; i < 500 && await send(encoder.encode(" ")); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  );
  const handler = new AgentHttpHandler({ requestTimeout: 200 });
  try {
    const { response } = await handler.handle(getRequest(listener.addr.port));
    assert.equal(response.statusCode, 200);
    assert.equal(
      await within(readOutcome(response.body), "hung"),
      "TimeoutError",
    );
    // The fetch was aborted: the server's writes fail long before 500 bytes.
    assert.ok((await serving) < 500);
  } finally {
    handler.destroy();
    listener.close();
  }
});

Deno.test("a declared Content-Length past the size bound fails with UpstreamBodyTooLargeError before the body is read", async () => {
  const totalBytes = 64 * 1024 * 1024;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const serving = serveOnce(
    listener,
    `HTTP/1.1 200 OK\r\nContent-Length: ${totalBytes}\r\n\r\n`,
    async (send) => {
      for (let sent = 0; sent < totalBytes; sent += chunk.byteLength) {
        if (!await send(chunk)) return;
      }
    },
  );
  const handler = new AgentHttpHandler({
    requestTimeout: 5_000,
    maxBodyBytes: 1024 * 1024,
  });
  try {
    const { response } = await handler.handle(getRequest(listener.addr.port));
    // Declared: refused before a byte is read.
    assert.equal(
      await within(readOutcome(response.body), "hung"),
      "UpstreamBodyTooLargeError",
    );
    const written = await within(serving, "still open");
    // Whatever the socket buffers took, nowhere near the 64 MiB sent.
    assert.ok(
      typeof written === "number" && written < 32 * 1024 * 1024,
      `${written}`,
    );
  } finally {
    handler.destroy();
    listener.close();
  }
});

Deno.test("a chunked body past the size bound fails after the bound is read, and its connection is closed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const chunk = encoder.encode(`10000\r\n${" ".repeat(0x10000)}\r\n`);
  const serving = serveOnce(
    listener,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    async (send) => {
      // 64 MiB at most, then the last chunk.
      for (let i = 0; i < 1024; i++) if (!await send(chunk)) return;
      await send(encoder.encode("0\r\n\r\n"));
    },
  );
  const handler = new AgentHttpHandler({ requestTimeout: 5_000 });
  try {
    const { response } = await handler.handle(getRequest(listener.addr.port));
    assert.equal(
      await within(readOutcome(response.body), "hung"),
      "UpstreamBodyTooLargeError",
    );
    const written = await within(serving, "still open");
    assert.ok(
      typeof written === "number" && written >= MAX_UPSTREAM_BODY_BYTES &&
        written < 32 * 1024 * 1024,
      `${written}`,
    );
  } finally {
    handler.destroy();
    listener.close();
  }
});

Deno.test("a body within the size bound and the deadline is read in full", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const body = " ".repeat(MAX_UPSTREAM_BODY_BYTES - 2) + "{}";
  const serving = serveOnce(
    listener,
    `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`,
    async (send) => {
      await send(encoder.encode(body));
    },
  );
  const handler = new AgentHttpHandler({ requestTimeout: 5_000 });
  try {
    const { response } = await handler.handle(getRequest(listener.addr.port));
    const text = await new Response(
      response.body as ReadableStream<Uint8Array>,
    ).text();
    assert.equal(text.length, MAX_UPSTREAM_BODY_BYTES);
    await serving;
  } finally {
    handler.destroy();
    listener.close();
  }
});

/** An error as the SDK's deserializer leaves it when it could not parse an answer. */
function unparsedAnswer(status: number, text: string): Error {
  let parseError: Error;
  try {
    JSON.parse(text);
    throw new Error("parsed");
  } catch (error) {
    parseError = error as Error;
  }
  parseError.message +=
    "\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.";
  return Object.assign(parseError, {
    $responseBodyText: text,
    $metadata: { httpStatusCode: status },
  });
}

Deno.test("classify keeps only AWS's own code and message: an answer the SDK could not parse leaves no text", () => {
  const html = "<html><head><title>502 Bad Gateway</title></head></html>";
  assert.deepEqual(classify(unparsedAnswer(502, html)), {
    kind: "connection",
  });
  assert.deepEqual(classify(unparsedAnswer(403, html)), {
    kind: "connection",
  });
  // A 200 whose body breaks off: internal, and the log line quotes nothing.
  const truncated = classify(
    unparsedAnswer(200, '{"SecretString":"hunter2-and-more'),
  );
  assert.equal(truncated.kind, "internal");
  assert.ok(!JSON.stringify(truncated).includes("hunter2"));
  // A timeout or size failure while reading a 5xx body is still that.
  const slow = Object.assign(new Error("late"), {
    name: "TimeoutError",
    $metadata: { httpStatusCode: 500 },
  });
  assert.deepEqual(classify(slow), { kind: "timeout" });
  const big = Object.assign(new UpstreamBodyTooLargeError(1024), {
    $metadata: { httpStatusCode: 200 },
  });
  assert.deepEqual(classify(big), { kind: "connection" });
  // The SDK's ServiceException (marked by $fault) keeps status, code, message.
  const service = Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });
  assert.deepEqual(classify(service), {
    kind: "service",
    status: 400,
    code: "ThrottlingException",
    message: "Rate exceeded",
  });
});
