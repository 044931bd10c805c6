/**
 * `max_conn` bounds the lookups that wait on AWS, not the answers the cache
 * gives at once, process level: with Secrets Manager stalled and `max_conn`
 * lookups waiting on it, a cached secret and `/ping` are still answered
 * while another miss gets 429.
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";
import { secretPath } from "../support/agent_upstream.ts";

const CACHED_VALUE = "cached-value-93d1f0";

/** Polls `condition` until true; fails after `limitMs` rather than hang. */
async function until(condition: () => boolean, limitMs = 15_000) {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition never became true");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("with max_conn lookups stalled on AWS, a cached secret is still served and /ping answers; another miss is 429", async () => {
  const server = await startSecretsManagerServer();
  server.createSecret("limit/cached", CACHED_VALUE);
  for (let i = 0; i < 3; i++) server.createSecret(`limit/cold/${i}`, "cold");
  let waiting: Promise<unknown>[] = [];
  // The stalled calls outlast the test: closing the server ends them, and
  // then the agent stops without waiting on them.
  const agent = await startAgent({
    endpoint: server.url,
    config: "max_conn = 2\nupstream_timeout_ms = 60000\n",
  }).catch(async (error) => {
    await server.close();
    throw error;
  });
  try {
    const warm = await agent.get(secretPath("limit/cached"));
    assert.equal(warm.status, 200, warm.body);

    server.setFault({ kind: "stall" }, { operations: ["GetSecretValue"] });
    const before = server.countCalls("GetSecretValue");
    waiting = [0, 1].map((i) =>
      agent.get(secretPath(`limit/cold/${i}`)).catch(() => undefined)
    );
    await until(() => server.countCalls("GetSecretValue") - before >= 2);

    const full = await agent.get(secretPath("limit/cold/2"));
    assert.deepEqual([full.status, full.body], [
      429,
      "Connection limit exceeded",
    ]);
    for (let i = 0; i < 20; i++) {
      const hit = await agent.get(secretPath("limit/cached"));
      assert.equal(hit.status, 200, hit.body);
      assert.equal(JSON.parse(hit.body).SecretString, CACHED_VALUE);
    }
    const ping = await agent.get("/ping", { token: null });
    assert.deepEqual([ping.status, ping.body], [200, "healthy"]);
    // The two misses still hold both slots: the hits took none.
    const stillFull = await agent.get(secretPath("limit/cold/2"));
    assert.equal(stillFull.status, 429);
    assert.equal(server.countCalls("GetSecretValue") - before, 2);
  } finally {
    await server.close();
    await Promise.all(waiting);
    await agent[Symbol.asyncDispose]();
  }
});
