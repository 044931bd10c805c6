/**
 * The one Unix socket path the socket tests use, where the systemd unit puts
 * it, which the test task grants (with its staging name). Test files run in
 * parallel and every socket test binds this path, so each holds a lock on it
 * while it runs.
 *
 * @module
 */

/** The socket path of every socket test. */
export const TEST_SOCKET = "/run/awssmaagent/agent.sock";
const SOCKET_DIR = TEST_SOCKET.slice(0, TEST_SOCKET.lastIndexOf("/"));

/** Why the socket tests cannot run here, or undefined when they can. */
async function socketDirProblem(): Promise<string | undefined> {
  try {
    await Deno.mkdir(SOCKET_DIR, { recursive: true });
    const probe = `${SOCKET_DIR}/.probe-${crypto.randomUUID()}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
    return undefined;
  } catch (error) {
    return `${SOCKET_DIR} is not writable here (${
      error instanceof Error ? error.name : error
    }); the tests' own grants name this socket path`;
  }
}

const PROBLEM = await socketDirProblem();
if (PROBLEM !== undefined) console.log(`Unix socket tests ignored: ${PROBLEM}`);

/** A test that binds {@linkcode TEST_SOCKET}: ignored where its folder cannot be written, else run holding the path's lock. */
export function socketTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ignore: PROBLEM !== undefined,
    async fn() {
      // flock(2) locks belong to the open file, so this also orders the
      // workers of one `deno test --parallel` process.
      using lock = await Deno.open(`${SOCKET_DIR}/.tests.lock`, {
        create: true,
        write: true,
      });
      await lock.lock(true);
      await fn();
    },
  });
}
