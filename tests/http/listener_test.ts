import assert from "node:assert/strict";
import {
  listen,
  ListenError,
  refuseServeAddressOverride,
} from "../../src/http/listener.ts";

const ok = () => Promise.resolve(new Response("ok"));

Deno.test("listen binds 127.0.0.1 and reports the port it got", async () => {
  let reported: Deno.NetAddr | undefined;
  const server = await listen(ok, {
    port: 0,
    onListen: (address) => (reported = address as Deno.NetAddr),
  });
  try {
    assert.equal((server.addrs[0] as Deno.NetAddr).hostname, "127.0.0.1");
    assert.equal(reported?.port, server.port);
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await response.text(), "ok");
  } finally {
    await server.shutdown();
  }
});

Deno.test("listen on a port in use fails with one clear message", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      listen(ok, {
        port: (taken.addr as Deno.NetAddr).port,
      }),
      /port is already in use/,
    );
  } finally {
    taken.close();
  }
});

Deno.test("a second agent on the same port is refused", async () => {
  const first = await listen(ok, { port: 0 });
  try {
    await assert.rejects(
      listen(ok, { port: first.port }),
      /port is already in use/,
    );
  } finally {
    await first.shutdown();
  }
});

/** Reads until the server closes the connection; returns what it sent. */
async function readUntilClosed(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  for (let read; (read = await conn.read(buffer)) !== null;) {
    text += new TextDecoder().decode(buffer.subarray(0, read));
  }
  return text;
}

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("idle, half-sent and keep-alive connections are closed at the age limit while new clients are served", async () => {
  const server = await listen(ok, { port: 0, maxConnectionAgeMs: 150 });
  const connect = () =>
    Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const idle = await connect();
  const halfSent = await connect();
  const keepAlive = await connect();
  try {
    await halfSent.write(encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    await keepAlive.write(encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const [fromIdle, fromHalfSent, fromKeepAlive] = await Promise.all(
      [idle, halfSent, keepAlive].map(readUntilClosed),
    );
    assert.equal(fromIdle, "");
    assert.equal(fromHalfSent, "");
    assert.match(fromKeepAlive, /^HTTP\/1\.1 200 OK/);
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await response.text(), "ok");
  } finally {
    for (const conn of [idle, halfSent, keepAlive]) conn.close();
    await server.shutdown();
  }
});

Deno.test("a request in flight at its connection's age limit still gets its answer", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const server = await listen(async () => {
    started.resolve();
    await release.promise;
    return new Response("late but whole");
  }, { port: 0, maxConnectionAgeMs: 50 });
  try {
    const pending = fetch(`http://127.0.0.1:${server.port}/`);
    await started.promise;
    await new Promise((resolve) => setTimeout(resolve, 200));
    release.resolve();
    const response = await pending;
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "late but whole");
  } finally {
    await server.shutdown();
  }
});

/** Reads one `ok` answer off a keep-alive connection; null when the connection closed first. */
async function readAnswer(conn: Deno.Conn): Promise<string | null> {
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!/\r\n\r\n[\s\S]*ok$/.test(text)) {
    let read: number | null;
    try {
      read = await conn.read(buffer);
    } catch {
      return null; // reset
    }
    if (read === null) return null;
    text += new TextDecoder().decode(buffer.subarray(0, read));
  }
  return text;
}

Deno.test("across age limits, a busy keep-alive client is told to close and never loses a request on a reused connection", async () => {
  const server = await listen(ok, { port: 0, maxConnectionAgeMs: 120 });
  const request = encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  let answered = 0;
  let toldToClose = 0;
  let lostOnReused = 0;
  const stopAt = performance.now() + 1_000;
  try {
    while (performance.now() < stopAt) {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: server.port,
      });
      try {
        for (let onThisConnection = 0;; onThisConnection++) {
          try {
            await conn.write(request);
          } catch {
            if (onThisConnection > 0) lostOnReused++;
            break;
          }
          const answer = await readAnswer(conn);
          if (answer === null) {
            // A fresh connection lost is a client retry; a reused one must
            // have been told to close first.
            if (onThisConnection > 0) lostOnReused++;
            break;
          }
          answered++;
          if (/^connection: close$/im.test(answer)) {
            toldToClose++;
            break;
          }
        }
      } finally {
        conn.close();
      }
    }
  } finally {
    await server.shutdown();
  }
  assert.ok(answered > 100, `${answered} answers`);
  assert.ok(
    toldToClose >= 3,
    `${toldToClose} answers carried Connection: close`,
  );
  assert.equal(lostOnReused, 0);
});

Deno.test("DENO_SERVE_ADDRESS set to anything refuses the start with one line; unset does not", () => {
  for (
    const value of [
      "tcp:0.0.0.0:2773",
      "tcp:127.0.0.1:2774",
      "duplicate,tcp:127.0.0.1:2774",
      "duplicate,tcp:[::1]:2774",
      "unix:/tmp/serve.sock",
      "not an address",
      "",
    ]
  ) {
    assert.throws(
      () => refuseServeAddressOverride(value),
      (error) =>
        error instanceof ListenError &&
        /^DENO_SERVE_ADDRESS is set: unset it to start the agent\b/.test(
          error.message,
        ) && !error.message.includes("\n"),
      value,
    );
  }
  refuseServeAddressOverride(undefined);
});
