/**
 * The connection pool and accept loop on their own: the cap closes the
 * oldest idle connection first, `EMFILE` is survived and teaches a lower
 * cap, and a socket closed under the loop is bound again at once.
 */

import assert from "node:assert/strict";
import {
  AcceptLoop,
  ConnectionPool,
  isOutOfFiles,
} from "../../src/http/connection_pool.ts";
import { listen } from "../../src/http/listener.ts";
import { exchange, RawConnection, requestHead } from "../support/raw_http.ts";

const HOST = "Host: 127.0.0.1";
/** Tries of a request after a rebind, 20 ms apart. */
const TRIES = 10;

/** Status and body of one request on a fresh socket; status 0 when nothing answered. */
async function ask(port: number, target: string): Promise<[number, string]> {
  try {
    const { responses } = await exchange(
      port,
      requestHead(`GET ${target} HTTP/1.1`, [HOST, "Connection: close"]),
      { timeoutMs: 2_000 },
    );
    return responses.length === 0
      ? [0, ""]
      : [responses[0].status, responses[0].body];
  } catch (error) {
    return [0, error instanceof Error ? error.message : String(error)];
  }
}

Deno.test("at the connection cap the oldest idle connection is closed first, never one with a request in flight", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const server = await listen(async (request) => {
    if (new URL(request.url).pathname === "/slow") {
      started.resolve();
      await release.promise;
    }
    return new Response("ok");
  }, { port: 0, maxOpenConnections: 3 });
  const conns: RawConnection[] = [];
  const open = async (target: string) => {
    const conn = await RawConnection.open(server.port);
    conns.push(conn);
    assert.ok(await conn.write(requestHead(`GET ${target} HTTP/1.1`, [HOST])));
    if (target !== "/slow") await conn.read({ responses: 1 });
    return conn;
  };
  try {
    const oldestIdle = await open("/");
    const busy = await open("/slow");
    await started.promise;
    const idle = await open("/");
    // A fourth connection: the oldest idle one makes room, the busy one stays.
    await open("/");
    assert.equal((await oldestIdle.read()).isClosed, true);
    // A fifth: the busy one is older, but only idle ones are closed.
    await open("/");
    assert.equal((await idle.read()).isClosed, true);
    release.resolve();
    const answer = await busy.read({ responses: 1 });
    assert.equal(answer.responses[0].body, "ok");
  } finally {
    release.resolve();
    for (const conn of conns) conn.close();
    await server.shutdown();
  }
});

const ok = () => new Response("ok");
const POOL_LIMITS = {
  maxOpenConnections: 16,
  maxConnectionAgeMs: 60_000,
  closingGraceMs: 1_000,
};

Deno.test("an accept loop binds its socket again at once when it is closed under it", async () => {
  const pool = new ConnectionPool(ok, POOL_LIMITS);
  const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = first.addr;
  const loop = new AcceptLoop(first, pool, {
    rebind: () => Deno.listen({ hostname: "127.0.0.1", port }),
  });
  try {
    assert.deepEqual(await ask(port, "/"), [200, "ok"]);
    first.close();
    let answered: [number, string] = [0, ""];
    for (let i = 0; i < TRIES && answered[0] !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answered = await ask(port, "/");
    }
    assert.deepEqual(answered, [200, "ok"]);
    assert.notEqual(loop.listener, first);
  } finally {
    await loop.stop();
    await pool.shutdown();
  }
});

Deno.test("an accept loop survives EMFILE, reports it once, and the pool learns a lower cap", async () => {
  const pool = new ConnectionPool(ok, POOL_LIMITS);
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let failures = 3;
  const exhausted = {
    accept: () =>
      failures-- > 0
        ? Promise.reject(new Error("Too many open files (os error 24)"))
        : real.accept(),
    close: () => real.close(),
    addr: real.addr,
  } as unknown as Deno.Listener;
  const reports: unknown[] = [];
  const loop = new AcceptLoop(exhausted, pool, {
    rebind: () => {
      throw new Error("not closed: no rebind");
    },
    onError: (error) => reports.push(error),
  });
  try {
    assert.deepEqual(await ask(real.addr.port, "/"), [200, "ok"]);
    assert.equal(reports.length, 1);
    assert.ok(isOutOfFiles(reports[0]));
    assert.ok(pool.cap < POOL_LIMITS.maxOpenConnections, `cap ${pool.cap}`);
  } finally {
    await loop.stop();
    await pool.shutdown();
  }
});
