/**
 * A stand-in for the agent process in the Lambda extension tests: answers
 * `GET /ping` with `healthy` on 127.0.0.1 at `http_port` from the file given
 * with `--config` (default 2773), and exits 0 on SIGTERM.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-read tests/support/fake_agent.ts --config FILE
 *
 * @module
 */

/** The port the fake agent listens on, from the config file text. */
export function portFromConfig(text: string): number {
  const match = /^\s*http_port\s*=\s*"?(\d+)"?\s*(#.*)?$/m.exec(text);
  return match ? Number(match[1]) : 2773;
}

async function main(args: readonly string[]): Promise<void> {
  const configIndex = args.indexOf("--config");
  const port = configIndex >= 0 && args[configIndex + 1] !== undefined
    ? portFromConfig(await Deno.readTextFile(args[configIndex + 1]))
    : 2773;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/ping"
        ? new Response("healthy")
        : new Response("Not found", { status: 404 }),
  );
  const stopped = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", () => stopped.resolve());
  await stopped.promise;
  await server.shutdown();
  Deno.exit(0);
}

if (import.meta.main) {
  await main(Deno.args);
}
