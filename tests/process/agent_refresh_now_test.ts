/**
 * The real agent process under a `refreshNow=true` loop: at most one
 * GetSecretValue per secret a second, the requests in between answered with
 * the value just fetched, so one client cannot spend the account's shared
 * quota.
 */

import assert from "node:assert/strict";
import {
  callsFor,
  secretPath,
  startAgentsWithServer,
} from "../support/agent_upstream.ts";

const GET = "GetSecretValue";
const REQUESTS = 200;

Deno.test("a refreshNow loop makes at most one GetSecretValue a second per secret, and every answer is the value", async (t) => {
  await using env = await startAgentsWithServer([""]);
  const { server } = env;
  const [agent] = env.agents;
  server.createSecret("loop/db", "loop-value");
  server.createSecret("loop/other", "other-value");
  const refresh = secretPath("loop/db", { refreshNow: "true" });

  await t.step(`${REQUESTS} requests one after another`, async () => {
    const startedMs = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const response = await agent.get(refresh);
      assert.equal(response.status, 200, response.body);
      assert.equal(JSON.parse(response.body).SecretString, "loop-value");
    }
    // Each fetch opens a window of 1 s: over the loop's time, one call per
    // started second and one more for the edge, however slow the machine.
    const seconds = (performance.now() - startedMs) / 1000;
    const calls = callsFor(server, GET, "loop/db");
    assert.ok(calls >= 1);
    assert.ok(
      calls <= Math.ceil(seconds) + 1,
      `${calls} calls for ${REQUESTS} requests in ${seconds.toFixed(2)} s`,
    );
  });

  await t.step(`${REQUESTS} requests at once`, async () => {
    const before = callsFor(server, GET, "loop/other");
    const startedMs = performance.now();
    const answers = await Promise.all(
      Array.from(
        { length: REQUESTS },
        () => agent.get(secretPath("loop/other", { refreshNow: "true" })),
      ),
    );
    const seconds = (performance.now() - startedMs) / 1000;
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.body);
      assert.equal(JSON.parse(answer.body).SecretString, "other-value");
    }
    const calls = callsFor(server, GET, "loop/other") - before;
    assert.ok(
      calls <= Math.ceil(seconds) + 1,
      `${calls} calls for ${REQUESTS} requests in ${seconds.toFixed(2)} s`,
    );
  });

  await t.step(
    "a second after the last fetch, refreshNow fetches the rotated value",
    async () => {
      server.putSecretValue("loop/db", "rotated-value");
      const calls = callsFor(server, GET, "loop/db");
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const response = await agent.get(refresh);
      assert.equal(JSON.parse(response.body).SecretString, "rotated-value");
      assert.equal(callsFor(server, GET, "loop/db"), calls + 1);
    },
  );
});
