/**
 * Runs the local Secrets Manager server with a few sample secrets and prints
 * how to reach it, until SIGINT or SIGTERM.
 *
 * Usage: `deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-sys
 * tests/support/demo_server.ts [--port <port>]` (port 0, the default, picks a
 * free one).
 *
 * @module
 */

import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "./secrets_manager_server.ts";

/** What the command line asks for. */
export interface DemoArgs {
  readonly port: number;
}

/** Parses `[--port <port>]`; throws a `TypeError` naming the problem. */
export function parseDemoArgs(args: readonly string[]): DemoArgs {
  let port = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = arg === "--port"
      ? args[++i]
      : arg.startsWith("--port=")
      ? arg.slice(7)
      : undefined;
    if (value === undefined) {
      throw new TypeError(
        arg === "--port" ? "--port needs a value" : `Unknown option ${arg}`,
      );
    }
    if (!/^\d+$/.test(value) || Number(value) > 65535) {
      throw new TypeError(`Invalid port ${value}: expected 0 to 65535`);
    }
    port = Number(value);
  }
  return { port };
}

/** Seeds a plain, a JSON, a binary and a rotated secret (with AWSPREVIOUS). */
export function seedSampleSecrets(server: SecretsManagerServer): string[] {
  server.createSecret("demo/plain", "hello from the local Secrets Manager");
  server.createSecret(
    "demo/database",
    JSON.stringify({ username: "app", password: "local-only-password" }),
  );
  server.createSecret("demo/binary", new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  server.createSecret("demo/rotated", "old-password");
  server.putSecretValue("demo/rotated", "new-password");
  return ["demo/plain", "demo/database", "demo/binary", "demo/rotated"];
}

/** The text printed at start: endpoint, credentials, env block, samples. */
export function describeDemo(
  server: SecretsManagerServer,
  names: readonly string[],
): string {
  return [
    `Local Secrets Manager listening on ${server.url}`,
    "",
    "Test credentials (accepted by this server only):",
    `  access key id:     ${TEST_CREDENTIALS.accessKeyId}`,
    `  secret access key: ${TEST_CREDENTIALS.secretAccessKey}`,
    "",
    "Environment to reach it through the AWS SDK:",
    `export AWS_ENDPOINT_URL_SECRETS_MANAGER=${server.url}`,
    `export AWS_ENDPOINT_URL_STS=${server.url}`,
    `export AWS_ACCESS_KEY_ID=${TEST_CREDENTIALS.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY='${TEST_CREDENTIALS.secretAccessKey}'`,
    "export AWS_REGION=us-east-1",
    "",
    "Sample secrets:",
    ...names.map((name) => {
      const stages = server.store.describeSecret(name).versionIdsToStages;
      return `  ${name}  (${Object.values(stages).flat().join(", ")})`;
    }),
    "",
    "Press Ctrl+C to stop.",
  ].join("\n");
}

/** Starts the demo and resolves once a signal has closed it; returns the exit code. */
export async function runDemo(args: readonly string[]): Promise<number> {
  let parsed: DemoArgs;
  try {
    parsed = parseDemoArgs(args);
  } catch (error) {
    console.error(
      `${(error as Error).message}\nUsage: demo_server.ts [--port <port>]`,
    );
    return 2;
  }
  let server: SecretsManagerServer;
  try {
    server = await startSecretsManagerServer({ port: parsed.port });
  } catch (error) {
    console.error(
      `Cannot listen on 127.0.0.1:${parsed.port}: ${(error as Error).message}`,
    );
    return 1;
  }
  console.log(describeDemo(server, seedSampleSecrets(server)));
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  await new Promise<void>((resolve) => {
    for (const signal of signals) Deno.addSignalListener(signal, resolve);
  });
  await server.close();
  console.log("Stopped.");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runDemo(Deno.args));
}
