/**
 * A TLS front for the local Secrets Manager: accepts TLS on 127.0.0.1 with
 * the test certificate in `tests/fixtures/tls/` (for `127.0.0.1`, issued by
 * the test CA there) and pipes the plain bytes to the server, so the agent
 * speaks HTTPS to it exactly as to AWS, signatures and all.
 *
 * @module
 */

const FIXTURES = new URL("../fixtures/tls/", import.meta.url);

/** The test CA's certificate file, for `DENO_CERT`. */
export const TEST_CA_FILE = new URL("ca.pem", FIXTURES).pathname;

/** A running TLS front. */
export interface TlsProxy {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a TLS front for `127.0.0.1:<targetPort>`. */
export async function startTlsProxy(targetPort: number): Promise<TlsProxy> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(new URL("server.pem", FIXTURES)),
    key: await Deno.readTextFile(new URL("server.key", FIXTURES)),
  });
  const pipes = new Set<Promise<void>>();
  const connections = new Set<Deno.Conn>();
  const accepting = (async () => {
    for await (const client of listener) {
      const pipe = relay(client, targetPort, connections);
      pipes.add(pipe);
      pipe.finally(() => pipes.delete(pipe));
    }
  })();
  return {
    url: `https://127.0.0.1:${listener.addr.port}`,
    async close() {
      listener.close();
      for (const connection of connections) {
        try {
          connection.close();
        } catch {
          // Already closed by its peer.
        }
      }
      await Promise.allSettled([accepting, ...pipes]);
    },
  };
}

async function relay(
  client: Deno.TlsConn,
  targetPort: number,
  connections: Set<Deno.Conn>,
): Promise<void> {
  connections.add(client);
  let server: Deno.Conn | undefined;
  try {
    server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    connections.add(server);
    // A failed handshake (an untrusted certificate) ends both directions.
    await Promise.allSettled([
      client.readable.pipeTo(server.writable),
      server.readable.pipeTo(client.writable),
    ]);
  } catch {
    // The client went away or the handshake failed.
  } finally {
    for (const connection of [client, server]) {
      if (connection === undefined) continue;
      connections.delete(connection);
      try {
        connection.close();
      } catch {
        // pipeTo already closed it.
      }
    }
  }
}
