/**
 * Readiness, end to end: `/ping?ready=true` answers 503 until the warm-up
 * list has been tried (a failure counts as tried, and is logged), then 200;
 * plain `/ping` is healthy throughout, and answers only once secrets can be
 * served.
 */

import assert from "node:assert/strict";
import { freePort, startAgent } from "../support/agent_process.ts";
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

// Plain /ping is what the Lambda extension and most health checks wait on:
// it must not answer before a secret can be served, so the agent listens only
// once its SDK client is built and its credentials checked.
Deno.test("plain /ping does not answer while the start-up credentials check is held, and a secret is served as soon as it does", async () => {
  const server = await startSecretsManagerServer();
  const gate = Promise.withResolvers<void>();
  try {
    server.createSecret("ready/now", "served-at-once");
    server.setFault({ kind: "gate", opened: gate.promise }, {
      operations: ["GetCallerIdentity"],
      times: 1,
    });
    const port = freePort();
    const starting = startAgent({ endpoint: server.url, port });
    for (
      let i = 0;
      i < 3000 && server.countCalls("GetCallerIdentity") === 0;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(server.countCalls("GetCallerIdentity"), 1);
    for (let i = 0; i < 10; i++) {
      const answer = await fetch(`http://127.0.0.1:${port}/ping`).then(
        async (response) => `${response.status} ${await response.text()}`,
        () => "not listening",
      );
      assert.equal(answer, "not listening", `ping ${i}`);
    }
    gate.resolve();
    await using agent = await starting;
    const ping = await agent.get("/ping", { token: null });
    assert.deepEqual([ping.status, ping.body], [200, "healthy"]);
    const secret = await agent.get("/v1/ready/now");
    assert.equal(secret.status, 200, secret.body);
    assert.equal(JSON.parse(secret.body).SecretString, "served-at-once");
  } finally {
    gate.resolve();
    await server.close();
  }
});
