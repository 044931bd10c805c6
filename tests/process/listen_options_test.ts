/**
 * Listen options, end to end: the agent on 127.0.0.1 and [::1] at once, on
 * [::1] alone, and on a Unix socket whose file mode guards it, under the
 * real permission set; bad values and sockets the sandbox does not grant
 * stop it with one clear line.
 */

import assert from "node:assert/strict";
import { socketTest, TEST_SOCKET } from "../support/test_socket.ts";
import {
  agentLines,
  runAgentToExit,
  type RunningAgent,
  startAgent,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import { listen } from "../../src/http/listener.ts";

const VALUE = JSON.stringify({ user: "app", password: "over-the-socket" });

/** A server holding the test's secret. */
function withServer(
  fn: (server: SecretsManagerServer) => Promise<void>,
): Promise<void> {
  return withSecretsManagerServer((server) => {
    server.createSecret("listen/db", VALUE);
    return fn(server);
  });
}

function secretOf(body: string): string {
  return JSON.parse(body).SecretString;
}

async function isRefused(hostname: string, port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname, port });
    connection.close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused;
  }
}

async function socketExists(): Promise<boolean> {
  try {
    return (await Deno.lstat(TEST_SOCKET)).isSocket === true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("listen_addresses with both loopbacks serves the same secrets on 127.0.0.1 and [::1]", async () => {
  await withServer(async (server) => {
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'listen_addresses = ["127.0.0.1", "::1"]',
    });
    const v4 = await agent.get("/v1/listen/db");
    const v6 = await agent.get("/v1/listen/db", {
      origin: `http://[::1]:${agent.port}`,
    });
    assert.equal(v4.status, 200);
    assert.equal(v6.status, 200);
    assert.equal(secretOf(v6.body), VALUE);
    assert.equal(server.countCalls("GetSecretValue"), 1, "one shared cache");
    assert.match(agent.stdout(), /listening on http:\/\/\[::1\]:\d+/);
    const forbidden = await agent.get("/v1/listen/db", {
      origin: `http://[::1]:${agent.port}`,
      token: "wrong",
    });
    assert.equal(forbidden.status, 403);
  });
});

Deno.test('listen_addresses = ["::1"] serves on [::1] only', async () => {
  await withServer(async (server) => {
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'listen_addresses = ["::1"]',
      listening: /listening on http:\/\/\[::1\]:/,
    });
    const response = await agent.get("/v1/listen/db", {
      origin: `http://[::1]:${agent.port}`,
    });
    assert.equal(response.status, 200);
    assert.equal(await isRefused("127.0.0.1", agent.port), true);
  });
});

Deno.test("a non-loopback listen address stops the agent with the contract-style message", async () => {
  const exit = await runAgentToExit({
    config: 'listen_addresses = ["0.0.0.0"]',
  });
  assert.equal(exit.code, 1);
  assert.deepEqual(
    agentLines(exit.stderr),
    ['The list of listen addresses in the configuration file must be a list of loopback addresses, 127.0.0.1 or ::1, such as ["127.0.0.1", "::1"].'],
  );
});

Deno.test("a Unix socket at any path is granted by the computed set, and a missing folder is named", async () => {
  const path = `/tmp/absent-${crypto.randomUUID()}/agent.sock`;
  const exit = await runAgentToExit({ config: `unix_socket_path = "${path}"` });
  assert.equal(exit.code, 1);
  assert.deepEqual(
    agentLines(exit.stderr),
    [`Could not listen on unix:${path}: its directory does not exist`],
  );
});

function socketAgent(
  server: SecretsManagerServer,
  extra = "",
): Promise<RunningAgent> {
  return startAgent({
    endpoint: server.url,
    config:
      `unix_socket_path = "${TEST_SOCKET}"\nunix_socket_mode = "0600"\n${extra}`,
    listening: new RegExp(`listening on unix:${TEST_SOCKET}`),
  });
}

socketTest(
  "a Unix socket gets its mode from the start, needs the token by default, and is removed on exit",
  () =>
    withServer(async (server) => {
      const agent = await socketAgent(server);
      try {
        const info = await Deno.lstat(TEST_SOCKET);
        assert.ok(info.isSocket);
        assert.equal(info.mode! & 0o777, 0o600);
        const ok = await agent.get("/v1/listen/db", {
          unixSocket: TEST_SOCKET,
        });
        assert.equal(ok.status, 200);
        assert.equal(secretOf(ok.body), VALUE);
        const none = await agent.get("/v1/listen/db", {
          unixSocket: TEST_SOCKET,
          token: null,
        });
        assert.equal(none.status, 403);
        // TCP keeps serving beside it.
        assert.equal((await agent.get("/v1/listen/db")).status, 200);
        const exit = await agent.stop();
        assert.equal(exit.code, 0, exit.stderr);
        assert.equal(await socketExists(), false);
      } finally {
        await agent[Symbol.asyncDispose]();
      }
    }),
);

socketTest(
  "unix_socket_require_token = false lets the socket's mode guard it; TCP still needs the token",
  () =>
    withServer(async (server) => {
      await using agent = await socketAgent(
        server,
        "unix_socket_require_token = false",
      );
      const viaSocket = await agent.get("/v1/listen/db", {
        unixSocket: TEST_SOCKET,
        token: null,
      });
      assert.equal(viaSocket.status, 200);
      assert.equal(secretOf(viaSocket.body), VALUE);
      const viaTcp = await agent.get("/v1/listen/db", { token: null });
      assert.equal(viaTcp.status, 403);
    }),
);

socketTest(
  "a leftover socket file is replaced; one another process serves on is left alone",
  () =>
    withServer(async (server) => {
      // A socket nobody listens on any more: what a killed agent leaves.
      const killed = await socketAgent(server);
      await killed[Symbol.asyncDispose]();
      assert.equal(await socketExists(), true);
      const agent = await socketAgent(server);
      assert.equal(
        (await agent.get("/ping", { unixSocket: TEST_SOCKET })).body,
        "healthy",
      );
      try {
        const second = await runAgentToExit({
          endpoint: server.url,
          config: `unix_socket_path = "${TEST_SOCKET}"`,
        });
        assert.equal(second.code, 1);
        assert.deepEqual(
          agentLines(second.stderr),
          [`Could not listen on unix:${TEST_SOCKET}: another process is serving on it`],
        );
        // The first agent still has its socket.
        assert.equal(
          (await agent.get("/ping", { unixSocket: TEST_SOCKET })).status,
          200,
        );
      } finally {
        await agent[Symbol.asyncDispose]();
      }
    }),
);

/** Reads from `conn` until the server closes it, bounded by `timeoutMs`; what arrived. */
async function readUntilClosed(
  conn: Deno.Conn,
  timeoutMs: number,
): Promise<{ text: string; isClosed: boolean }> {
  const buffer = new Uint8Array(4096);
  let text = "";
  const timeout = new Promise<"timeout">((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    Deno.unrefTimer(timer);
  });
  for (;;) {
    const read = await Promise.race([
      conn.read(buffer).catch(() => null),
      timeout,
    ]);
    if (read === "timeout") return { text, isClosed: false };
    if (read === null) return { text, isClosed: true };
    text += new TextDecoder().decode(buffer.subarray(0, read));
  }
}

socketTest(
  "listen: a Unix socket keeps one file for its whole life while its connections are closed at the age limit",
  async () => {
    const server = await listen(() => new Response("ok"), {
      port: 0,
      addresses: [],
      unixSocket: { path: TEST_SOCKET, mode: 0o600 },
      maxConnectionAgeMs: 80,
    });
    try {
      const inode = (await Deno.lstat(TEST_SOCKET)).ino;
      const keepAlive = await Deno.connect({
        transport: "unix",
        path: TEST_SOCKET,
      });
      try {
        await keepAlive.write(
          new TextEncoder().encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        );
        // Far more than the 80 ms age: a bound against a hang, not a measurement.
        const { text, isClosed } = await readUntilClosed(keepAlive, 10_000);
        assert.match(text, /^HTTP\/1\.1 200 OK/);
        assert.ok(isClosed, "the connection outlived its age limit");
      } finally {
        keepAlive.close();
      }
      for (let i = 0; i < 5; i++) {
        using client = Deno.createHttpClient({
          proxy: { transport: "unix", path: TEST_SOCKET },
        });
        const response = await fetch("http://127.0.0.1/", { client });
        assert.equal(await response.text(), "ok");
      }
      assert.equal(
        (await Deno.lstat(TEST_SOCKET)).ino,
        inode,
        "the file changed",
      );
      assert.equal((await Deno.lstat(TEST_SOCKET)).mode! & 0o777, 0o600);
      assert.equal(server.port, 0);
    } finally {
      await server.shutdown();
    }
    assert.equal(await socketExists(), false);
  },
);
