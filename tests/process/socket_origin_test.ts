/**
 * A Unix socket whose file mode guards it (`unix_socket_require_token =
 * false`) still refuses what a proxy in front of it would send, process
 * level: `X-Forwarded-For`, `Forwarded` and `X-Real-IP` are 400 Forwarded,
 * and a Host naming another machine is 400 Invalid Host, as on TCP.
 */

import assert from "node:assert/strict";
import { socketTest, TEST_SOCKET } from "../support/test_socket.ts";
import { startAgent } from "../support/agent_process.ts";
import { withSecretsManagerServer } from "../support/secrets_manager_server.ts";
import {
  parseResponses,
  rawBytes,
  type RawResponse,
  requestHead,
} from "../support/raw_http.ts";

const VALUE = "socket-origin-value-6b20ad";

/**
 * Sends one raw request over the socket (fetch sets Host from the URL, and
 * would need a grant for the host it names) and reads the answer to the close.
 */
async function socketExchange(head: string): Promise<RawResponse> {
  const conn = await Deno.connect({ transport: "unix", path: TEST_SOCKET });
  // A guard against a hang, not a measured duration.
  const guard = setTimeout(() => conn.close(), 10_000);
  try {
    await conn.write(rawBytes(head));
    let received = new Uint8Array(0);
    const buffer = new Uint8Array(16 * 1024);
    for (;;) {
      const count = await conn.read(buffer).catch(() => null);
      if (count === null) break;
      const joined = new Uint8Array(received.length + count);
      joined.set(received);
      joined.set(buffer.subarray(0, count), received.length);
      received = joined;
    }
    const [response] = parseResponses(received, true);
    assert.ok(response !== undefined, "no answer on the socket");
    return response;
  } finally {
    clearTimeout(guard);
    try {
      conn.close();
    } catch {
      // Closed by the guard.
    }
  }
}

socketTest(
  "a socket trusted without a token still refuses proxy headers and a foreign Host with 400",
  () =>
    withSecretsManagerServer(async (server) => {
      server.createSecret("socket/db", VALUE);
      await using agent = await startAgent({
        endpoint: server.url,
        config: [
          `unix_socket_path = "${TEST_SOCKET}"`,
          `unix_socket_mode = "0600"`,
          "unix_socket_require_token = false",
        ].join("\n"),
        listening: new RegExp(`listening on unix:${TEST_SOCKET}`),
      });
      const viaSocket = { unixSocket: TEST_SOCKET, token: null };
      const plain = await agent.get("/v1/socket/db", viaSocket);
      assert.equal(plain.status, 200, plain.body);
      assert.equal(JSON.parse(plain.body).SecretString, VALUE);
      const calls = server.countCalls("GetSecretValue");
      for (
        const [name, value] of [
          ["X-Forwarded-For", "203.0.113.7"],
          ["Forwarded", "for=203.0.113.7"],
          ["X-Real-IP", "203.0.113.7"],
        ]
      ) {
        const proxied = await agent.get("/v1/socket/other", {
          ...viaSocket,
          headers: { [name]: value },
        });
        assert.deepEqual([proxied.status, proxied.body], [400, "Forwarded"]);
      }
      for (const host of ["evil.example", "10.0.0.5:2773"]) {
        const foreign = await socketExchange(
          requestHead("GET /v1/socket/other HTTP/1.1", [
            `Host: ${host}`,
            "Connection: close",
          ]),
        );
        assert.deepEqual(
          [foreign.status, foreign.body],
          [400, "Invalid Host"],
          host,
        );
      }
      // Without a Host header (HTTP/1.0, as `nc -U` users type it) it is served.
      const hostless = await socketExchange(
        requestHead("GET /v1/socket/db HTTP/1.0"),
      );
      assert.equal(hostless.status, 200, hostless.body);
      assert.equal(server.countCalls("GetSecretValue"), calls);
      const ping = await agent.get("/ping", viaSocket);
      assert.deepEqual([ping.status, ping.body], [200, "healthy"]);
    }),
);
