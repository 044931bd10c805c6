/**
 * Readiness, end to end: `/ping?ready=true` answers 503 until the warm-up
 * list has been tried (a failure counts as tried, and is logged), then 200;
 * plain `/ping` is healthy throughout.
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";

Deno.test("ping?ready=true is 503 while the warm-up list loads, then 200, and the warmed secrets are hits", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("ready/a", "warm-a");
    server.setFault({ kind: "latency", ms: 1500 }, {
      operations: ["GetSecretValue"],
    });
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'warm_up_secrets = ["ready/a", "ready/missing"]',
    });
    const early = await agent.get("/ping?ready=true", { token: null });
    assert.equal(early.status, 503);
    assert.equal(early.body, "warming up");
    const health = await agent.get("/ping", { token: null });
    assert.equal(health.status, 200);
    assert.equal(health.body, "healthy");

    let ready = early;
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await agent.get("/ping?ready=true", { token: null });
    }
    assert.equal(ready.status, 200);
    assert.equal(ready.body, "ready");
    server.setFault(undefined);
    server.resetCalls();
    const hit = await agent.get("/v1/ready/a");
    assert.equal(hit.status, 200);
    assert.equal(JSON.parse(hit.body).SecretString, "warm-a");
    assert.equal(server.countCalls("GetSecretValue"), 0);
    const log = await agent.logText();
    assert.match(
      log,
      /Warm-up of ready\/missing failed: ResourceNotFoundException/,
    );
    assert.match(log, /Warm-up finished: 1 of 2 secrets fetched/);
    assert.match(log, /GET \/ping\?ready=true 503/);
  } finally {
    await server.close();
  }
});

Deno.test("without a warm-up list the agent is ready at once; a bad ready value is a 400", async () => {
  const server = await startSecretsManagerServer();
  try {
    await using agent = await startAgent({ endpoint: server.url });
    const ready = await agent.get("/ping?ready=1", { token: null });
    assert.equal(ready.status, 200);
    assert.equal(ready.body, "ready");
    const bad = await agent.get("/ping?ready=soon", { token: null });
    assert.equal(bad.status, 400);
    assert.equal(bad.body, "invalid ready value");
  } finally {
    await server.close();
  }
});
