import assert from "node:assert/strict";
import {
  AgentHttpHandler,
  asNetworkError,
  NetworkError,
} from "../src/fetch_handler.ts";
import { classify } from "../src/secrets_client.ts";

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
  const request = {
    protocol: "http:",
    hostname: "127.0.0.1",
    port: listener.addr.port,
    method: "GET",
    path: "/",
    query: {},
    headers: {},
  } as unknown as Parameters<AgentHttpHandler["handle"]>[0];
  try {
    await assert.rejects(handler.handle(request), { name: "TimeoutError" });
    using connection = await accepted;
    const buffer = new Uint8Array(64 * 1024);
    // The request arrives, then the connection ends (EOF or reset), well
    // before this bound; without the abort it stays open and this fails.
    const ended = (async () => {
      try {
        while ((await connection.read(buffer)) !== null) {
          // The request's bytes.
        }
      } catch {
        // Reset.
      }
      return "ended";
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise((resolve) => {
      timer = setTimeout(() => resolve("still open"), 5_000);
    });
    assert.equal(await Promise.race([ended, bound]), "ended");
    clearTimeout(timer);
  } finally {
    handler.destroy();
    listener.close();
  }
});
