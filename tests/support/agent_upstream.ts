/**
 * Helpers for process-level tests that run the real agent against the local
 * Secrets Manager server: starting both together, building request paths,
 * counting the upstream calls one secret caused, and waiting out a TTL.
 *
 * @module
 */

import { type RunningAgent, startAgent } from "./agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from "./secrets_manager_server.ts";

/** A local Secrets Manager and agents pointed at it, disposed together. */
export interface AgentsWithServer extends AsyncDisposable {
  readonly server: SecretsManagerServer;
  /** One running agent per config given, in the same order. */
  readonly agents: readonly RunningAgent[];
}

/**
 * Starts a local Secrets Manager, then one agent per config text (in
 * parallel); a failed start stops whatever did start.
 */
export async function startAgentsWithServer(
  configs: readonly string[],
): Promise<AgentsWithServer> {
  const server = await startSecretsManagerServer();
  const started = await Promise.allSettled(
    configs.map((config) => startAgent({ endpoint: server.url, config })),
  );
  const agents = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : []
  );
  const dispose = async () => {
    await Promise.all(agents.map((agent) => agent[Symbol.asyncDispose]()));
    await server.close();
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure !== undefined) {
    await dispose();
    throw (failure as PromiseRejectedResult).reason;
  }
  return { server, agents, [Symbol.asyncDispose]: dispose };
}

/** Query parameters of a secret request besides `secretId`. */
export interface SecretQuery {
  readonly versionId?: string;
  readonly versionStage?: string;
  readonly refreshNow?: string;
}

/** `/secretsmanager/get?secretId=...` with the other parameters, encoded. */
export function secretPath(secretId: string, query: SecretQuery = {}): string {
  const params = new URLSearchParams({ secretId });
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, value);
  }
  return `/secretsmanager/get?${params}`;
}

/** How many `operation` calls the server received that named `secretId`. */
export function callsFor(
  server: SecretsManagerServer,
  operation: string,
  secretId: string,
): number {
  return server.calls().filter((call) =>
    call.operation === operation && call.secretId === secretId
  ).length;
}

/**
 * Waits until a TTL of `ttlSeconds` started now has surely run out: a process
 * keeps real time, so a process-level test cannot move its clock.
 */
export function waitPastTtl(ttlSeconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ttlSeconds * 1000 + 150));
}
