/**
 * `/metrics`, end to end: behind the token, in the Prometheus text format,
 * with values that move as requests are made, and never a secret id,
 * parameter name or value in it; not found unless `metrics = true`.
 */

import assert from "node:assert/strict";
import { type RunningAgent, startAgent } from "../support/agent_process.ts";
import { withSecretsManagerServer } from "../support/secrets_manager_server.ts";

/** The samples of an exposition text, by series (name and labels). */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

async function scrape(agent: RunningAgent): Promise<Map<string, number>> {
  const response = await agent.get("/metrics");
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  return samples(response.body);
}

Deno.test("metrics count requests, cache events and upstream calls as they happen, without ids or values", async () => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret("metrics/db-password", "hunter2-value");
    server.putParameter("/metrics/param-name", "param-value");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "metrics = true\nparameter_store = true",
    });
    const before = await scrape(agent);
    assert.equal(before.get('secrets_agent_cache_entries{cache="secrets"}'), 0);
    assert.equal(
      before.get('secrets_agent_cache_entries{cache="parameters"}'),
      0,
    );

    assert.equal((await agent.get("/v1/metrics/db-password")).status, 200);
    assert.equal((await agent.get("/v1/metrics/db-password")).status, 200);
    assert.equal((await agent.get("/v1/metrics/absent")).status, 400);
    assert.equal(
      (await agent.get(
        "/systemsmanager/parameters/get?name=%2Fmetrics%2Fparam-name",
      )).status,
      200,
    );
    assert.equal((await agent.get("/v1/x", { token: "wrong" })).status, 403);

    const response = await agent.get("/metrics");
    const after = samples(response.body);
    const event = (cache: string, name: string) =>
      after.get(
        `secrets_agent_cache_events_total{cache="${cache}",event="${name}"}`,
      );
    assert.equal(
      after.get('secrets_agent_requests_total{route="secret",status="200"}'),
      2,
    );
    assert.equal(
      after.get('secrets_agent_requests_total{route="secret",status="400"}'),
      1,
    );
    assert.equal(
      after.get('secrets_agent_requests_total{route="secret",status="403"}'),
      1,
    );
    assert.equal(
      after.get('secrets_agent_requests_total{route="parameter",status="200"}'),
      1,
    );
    assert.equal(
      after.get('secrets_agent_requests_total{route="metrics",status="200"}'),
      1,
    );
    assert.equal(event("secrets", "hit"), 1);
    assert.equal(event("secrets", "miss"), 1);
    assert.equal(event("secrets", "error"), 1);
    assert.equal(event("parameters", "miss"), 1);
    assert.equal(after.get('secrets_agent_cache_entries{cache="secrets"}'), 1);
    assert.equal(
      after.get(
        'secrets_agent_upstream_calls_total{operation="GetSecretValue",outcome="success"}',
      ),
      1,
    );
    assert.equal(
      after.get(
        'secrets_agent_upstream_calls_total{operation="GetSecretValue",outcome="ResourceNotFoundException"}',
      ),
      1,
    );
    assert.equal(
      after.get(
        'secrets_agent_upstream_calls_total{operation="GetParameter",outcome="success"}',
      ),
      1,
    );
    assert.equal(
      after.get(
        'secrets_agent_upstream_duration_seconds_count{operation="GetSecretValue"}',
      ),
      2,
    );
    assert.equal(
      after.get(
        'secrets_agent_upstream_duration_seconds_bucket{operation="GetSecretValue",le="+Inf"}',
      ),
      2,
    );
    assert.equal(after.get("secrets_agent_requests_in_flight"), 0);
    for (
      const leak of [
        "db-password",
        "hunter2",
        "param-name",
        "param-value",
        "absent",
      ]
    ) {
      assert.ok(!response.body.includes(leak), `metrics mention ${leak}`);
    }
  });
});

Deno.test("metrics need the token, and are not found unless turned on", async () => {
  await withSecretsManagerServer(async (server) => {
    {
      await using agent = await startAgent({
        endpoint: server.url,
        config: "metrics = true",
      });
      const refused = await agent.get("/metrics", { token: null });
      assert.equal(refused.status, 403);
    }
    await using plain = await startAgent({ endpoint: server.url });
    const response = await plain.get("/metrics");
    assert.equal(response.status, 404);
  });
});

Deno.test("requests waiting on AWS show as in flight", async () => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret("metrics/slow", "v");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "metrics = true",
    });
    // Long enough for a loaded machine to see all three waiting.
    server.setFault({ kind: "latency", ms: 3000 }, {
      operations: ["GetSecretValue"],
    });
    const pending = Promise.all(
      Array.from({ length: 3 }, () => agent.get("/v1/metrics/slow")),
    );
    let inFlight = 0;
    for (let i = 0; i < 250 && inFlight < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight =
        (await scrape(agent)).get("secrets_agent_requests_in_flight") ??
          0;
    }
    assert.equal(inFlight, 3);
    await pending;
    assert.equal(
      (await scrape(agent)).get("secrets_agent_requests_in_flight"),
      0,
    );
  });
});
