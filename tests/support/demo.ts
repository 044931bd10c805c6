/**
 * `deno task demo`: the local Secrets Manager with sample secrets, and the
 * real agent (started as `deno task start` starts it) pointed at it, so a
 * newcomer sees a secret served with no AWS account. Prints ready curl
 * commands; stops both on Ctrl+C.
 *
 * @module
 */

import { freePort, startAgent, TOKEN_HEADER } from "./agent_process.ts";
import { seedSampleSecrets } from "./demo_server.ts";
import { startSecretsManagerServer } from "./secrets_manager_server.ts";

const PREFERRED_PORT = 2773;

/** The lines printed once both are up. */
export function describeAgentDemo(
  agentUrl: string,
  token: string,
  names: readonly string[],
): string {
  const header = `-H '${TOKEN_HEADER}: ${token}'`;
  return [
    "",
    "Try:",
    `  curl ${header} '${agentUrl}/secretsmanager/get?secretId=${names[0]}'`,
    ...names.slice(1).map((name) =>
      `  curl ${header} '${agentUrl}/v1/${name}'`
    ),
    `  curl ${header} '${agentUrl}/v1/${
      names.at(-1)
    }?versionStage=AWSPREVIOUS'`,
    `  curl ${agentUrl}/ping`,
    "",
    "Press Ctrl+C to stop.",
  ].join("\n");
}

function portToUse(): number {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: PREFERRED_PORT }).close();
    return PREFERRED_PORT;
  } catch {
    return freePort();
  }
}

async function main(): Promise<number> {
  const server = await startSecretsManagerServer();
  const names = seedSampleSecrets(server);
  const token = crypto.randomUUID();
  let agent;
  try {
    agent = await startAgent({
      endpoint: server.url,
      port: portToUse(),
      config: "log_to_file = false\n",
      env: { AWS_TOKEN: token },
    });
  } catch (error) {
    console.error((error as Error).message);
    await server.close();
    return 1;
  }
  console.log(
    `Local Secrets Manager (sample secrets ${
      names.join(", ")
    }) at ${server.url}`,
  );
  console.log(agent.stdout().trim());
  console.log(describeAgentDemo(agent.url, token, names));
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, resolve);
    }
  });
  const exit = await agent.stop("SIGTERM");
  await agent[Symbol.asyncDispose]();
  await server.close();
  console.log(exit.stdout.split("\n").slice(1).join("\n").trim());
  console.log("Stopped.");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
