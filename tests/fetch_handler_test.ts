import assert from "node:assert/strict";
import { asNetworkError, NetworkError } from "../src/fetch_handler.ts";
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
