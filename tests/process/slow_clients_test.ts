/**
 * Slow clients: idle, half-sent and slow-dripping connections neither block
 * other clients nor hold `max_conn` slots (the agent counts requests in
 * flight, not sockets), and the listener cuts them at the connection age
 * limit. The process has no way to shorten the 61 s limit (no config key, no
 * variable: a knob users could turn off), so cutting is proven on `listen()`
 * with a short `maxConnectionAgeMs`, and the process tests prove that slow
 * sockets do not get in the way meanwhile.
 */

import assert from "node:assert/strict";
import { listen } from "../../src/http/listener.ts";
import {
  AGENT_TOKEN,
  type RunningAgent,
  startAgent,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";
import { exchange, RawConnection, requestHead } from "../support/raw_http.ts";

const SLOW_VALUE = "slow-clients-value-93d0b1";
const MAX_CONN = 5;
const IDLE_CONNECTIONS = 200;
const HALF_SENT_CONNECTIONS = 10;
const DRIPPING_CONNECTIONS = 10;
const DRIP_INTERVAL_MS = 250;
const HOST = "Host: 127.0.0.1";
const TOKEN = `${TOKEN_HEADER}: ${AGENT_TOKEN}`;

/** Status and body of one request on a fresh socket, bounded by the read time-out. */
async function ask(
  port: number,
  target: string,
  headers: string[] = [],
): Promise<[number, string]> {
  const { responses } = await exchange(
    port,
    requestHead(`GET ${target} HTTP/1.1`, [
      HOST,
      ...headers,
      "Connection: close",
    ]),
  );
  assert.equal(responses.length, 1, target);
  return [responses[0].status, responses[0].body];
}

async function assertServes(agent: RunningAgent, label: string) {
  assert.deepEqual(await ask(agent.port, "/ping"), [200, "healthy"], label);
  const [status, body] = await ask(agent.port, "/v1/slow/db", [TOKEN]);
  assert.equal(status, 200, `${label}: ${body}`);
  assert.equal(JSON.parse(body).SecretString, SLOW_VALUE, label);
}

async function openMany(port: number, count: number): Promise<RawConnection[]> {
  const opened: RawConnection[] = [];
  // In small batches: a burst of 200 connects can overflow the accept queue.
  for (let i = 0; i < count; i += 20) {
    const batch = Math.min(20, count - i);
    opened.push(
      ...await Promise.all(
        Array.from({ length: batch }, () => RawConnection.open(port)),
      ),
    );
  }
  return opened;
}

Deno.test(
  `${IDLE_CONNECTIONS} idle, half-sent and slow-dripping connections neither block clients nor hold max_conn = ${MAX_CONN} slots`,
  async () => {
    const server = await startSecretsManagerServer();
    server.createSecret("slow/db", SLOW_VALUE);
    const stopDrips = new AbortController();
    const sockets: RawConnection[] = [];
    try {
      await using agent = await startAgent({
        endpoint: server.url,
        config: `max_conn = ${MAX_CONN}\n`,
      });
      sockets.push(...await openMany(agent.port, IDLE_CONNECTIONS));
      const halfSent = await openMany(agent.port, HALF_SENT_CONNECTIONS);
      sockets.push(...halfSent);
      for (const conn of halfSent) {
        assert.ok(await conn.write(`GET /ping HTTP/1.1\r\n${HOST}\r\nX-Part`));
      }
      const drippers = await openMany(agent.port, DRIPPING_CONNECTIONS);
      sockets.push(...drippers);
      const endless = `GET /ping HTTP/1.1\r\n${HOST}\r\nX-Slow: ${
        "s".repeat(1000)
      }`;
      const drips = drippers.slice(1).map((conn) =>
        conn.drip(endless, {
          intervalMs: DRIP_INTERVAL_MS,
          signal: stopDrips.signal,
        })
      );
      // One dripper finishes its request, and must then get its answer.
      const [whole] = drippers;
      const wholeAnswer = (async () => {
        await whole.drip(`GET /ping HTTP/1.1\r\n${HOST}\r\n\r\n`, {
          intervalMs: DRIP_INTERVAL_MS / 3,
        });
        return await whole.read({ responses: 1 });
      })();

      for (let i = 0; i < 10; i++) await assertServes(agent, `sequential ${i}`);
      const concurrent = await Promise.all(
        Array.from(
          { length: MAX_CONN },
          () => ask(agent.port, "/v1/slow/db", [TOKEN]),
        ),
      );
      assert.deepEqual(
        concurrent.map(([status]) => status),
        Array(MAX_CONN).fill(200),
      );

      const dripped = await wholeAnswer;
      assert.deepEqual(
        dripped.responses.map(({ status, body }) => [status, body]),
        [[200, "healthy"]],
      );
      // An idle socket is served when it finally speaks.
      const [firstIdle] = sockets;
      assert.ok(
        await firstIdle.write(
          requestHead("GET /v1/slow/db HTTP/1.1", [HOST, TOKEN]),
        ),
      );
      const late = await firstIdle.read({ responses: 1 });
      assert.equal(late.responses[0].status, 200);
      assert.equal(JSON.parse(late.responses[0].body).SecretString, SLOW_VALUE);

      stopDrips.abort();
      await Promise.all(drips);
      for (const conn of sockets) conn.close();
      sockets.length = 0;
      await assertServes(agent, "after the slow clients left");
      Deno.kill(agent.pid, "SIGCONT"); // throws if the process is gone
      const { code, stderr } = await agent.stop();
      assert.equal(code, 0, stderr);
    } finally {
      stopDrips.abort();
      for (const conn of sockets) conn.close();
      await server.close();
    }
  },
);

const ok = () => Promise.resolve(new Response("ok"));
const SHORT_AGE_MS = 200;

Deno.test("listen cuts a slow-dripping connection at the age limit while new clients are served", async () => {
  const server = await listen(ok, {
    port: 0,
    maxConnectionAgeMs: SHORT_AGE_MS,
  });
  const stop = new AbortController();
  try {
    using dripper = await RawConnection.open(server.port);
    const dripping = dripper.drip(
      `GET / HTTP/1.1\r\n${HOST}\r\nX-Slow: ${"s".repeat(500)}`,
      { intervalMs: 20, signal: stop.signal },
    );
    const { port } = server;
    const answer = await exchange(
      port,
      requestHead("GET / HTTP/1.1", [HOST, "Connection: close"]),
    );
    assert.equal(answer.responses[0]?.body, "ok");
    // Far less than the drip's 10 s: the listener closed it.
    const cut = await dripper.read({ timeoutMs: 5_000 });
    assert.deepEqual([cut.isClosed, cut.responses.length], [true, 0]);
    stop.abort();
    await dripping;
  } finally {
    stop.abort();
    await server.shutdown();
  }
});

Deno.test("listen closes a busy keep-alive connection at the age limit after answering what it read", async () => {
  const server = await listen(ok, {
    port: 0,
    maxConnectionAgeMs: SHORT_AGE_MS,
  });
  try {
    using conn = await RawConnection.open(server.port);
    let answered = 0;
    const deadline = Date.now() + 5_000; // a guard, not a measurement
    while (Date.now() < deadline) {
      if (!await conn.write(requestHead("GET / HTTP/1.1", [HOST]))) break;
      const { responses, isClosed } = await conn.read({
        responses: answered + 1,
      });
      assert.ok(responses.every((response) => response.body === "ok"));
      answered = responses.length;
      if (isClosed) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const final = await conn.read({ timeoutMs: 2_000 }).catch(() => undefined);
    assert.ok(conn.isClosed || final?.isClosed, "still open after 5 s");
    assert.ok(answered >= 1);
  } finally {
    await server.shutdown();
  }
});
