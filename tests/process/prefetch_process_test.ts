/**
 * Prefetch, end to end: warm-up entries that name a role, and secrets found
 * by tag with ListSecrets (re-listed every period, a failed listing retried),
 * are cached before `/ping?ready=true` says ready, and served without a call
 * to requests that name the same role.
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";

const ROLE_A = "arn:aws:iam::111111111111:role/reader";
const ROLE_B = "arn:aws:iam::222222222222:role/ops";

/** The GetSecretValue calls the server saw, as `secretId` or `secretId as role`. */
function reads(server: SecretsManagerServer): string[] {
  return server.calls()
    .filter((call) => call.operation === "GetSecretValue")
    .map((call) =>
      call.roleArn === undefined
        ? call.secretId ?? ""
        : `${call.secretId} as ${call.roleArn}`
    );
}

/** Waits (bounded) until the server has read `secret`, however it was asked. */
async function untilRead(
  server: SecretsManagerServer,
  secret: string,
): Promise<void> {
  for (let i = 0; i < 200 && !reads(server).includes(secret); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(reads(server).includes(secret), `${secret} was never fetched`);
}

function query(secretId: string, roleArn?: string): string {
  const role = roleArn === undefined
    ? ""
    : `&roleArn=${encodeURIComponent(roleArn)}`;
  return `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}${role}`;
}

Deno.test("warm-up entries with a role and secrets found by tag are served from the cache, re-listed every period", async () => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret("plain/a", "a");
    server.createSecret("shared/db", "shared");
    server.createSecret("pay/db", "pay", {
      tags: [{ key: "team", value: "payments" }],
    });
    // ListSecrets' filters match prefixes: the agent checks tags exactly.
    server.createSecret("pay/old", "old", {
      tags: [{ key: "team", value: "payments-old" }],
    });
    server.createSecret("ops/db", "ops", {
      tags: [{ key: "env", value: "prod" }],
    });
    // The first listing fails, the SDK's 3 attempts all throttled: logged,
    // retried, never fatal.
    server.setFault({ kind: "throttle" }, {
      operations: ["ListSecrets"],
      times: 3,
    });
    await using agent = await startAgent({
      endpoint: server.url,
      config: `allow_role_arn = true
warm_up_secrets = ["plain/a", { secret_id = "shared/db", role_arn = "${ROLE_A}" }]
warm_up_tags = [
  { key = "team", values = ["payments"] },
  { key = "env", role_arn = "${ROLE_B}" },
]
warm_up_discovery_seconds = 1`,
    });
    let ready = await agent.get("/ping?ready=true", { token: null });
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      ready = await agent.get("/ping?ready=true", { token: null });
    }
    assert.equal(ready.status, 200, ready.body);
    // The throttled listing is retried within the 1 s period.
    await untilRead(server, "pay/db");
    const listedAs = server.calls()
      .filter((call) => call.operation === "ListSecrets")
      .map((call) => call.roleArn ?? "");
    assert.ok(listedAs.includes(ROLE_B), "the env filter lists as its role");
    assert.ok(!reads(server).includes("pay/old"));

    server.resetCalls();
    for (
      const [secretId, roleArn, value] of [
        ["plain/a", undefined, "a"],
        ["shared/db", ROLE_A, "shared"],
        ["pay/db", undefined, "pay"],
        ["ops/db", ROLE_B, "ops"],
      ] as const
    ) {
      const response = await agent.get(query(secretId, roleArn));
      assert.equal(response.status, 200, response.body);
      assert.equal(JSON.parse(response.body).SecretString, value);
    }
    assert.deepEqual(reads(server), [], "every one was a cache hit");
    // Without its role, a warmed secret is another caller's read.
    assert.equal((await agent.get(query("shared/db"))).status, 200);
    assert.deepEqual(reads(server), ["shared/db"]);

    // A secret tagged after start-up is found by a later round.
    server.createSecret("pay/new", "new", {
      tags: [{ key: "team", value: "payments" }],
    });
    await untilRead(server, "pay/new");
    server.resetCalls();
    const found = await agent.get(query("pay/new"));
    assert.equal(JSON.parse(found.body).SecretString, "new");
    assert.deepEqual(reads(server), []);

    const log = await agent.logText();
    assert.match(
      log,
      /Listing the secrets tagged team failed, retrying: ThrottlingException/,
    );
    assert.match(log, /Warm-up by tag team: 1 secrets/);
    assert.match(log, /Warm-up by tag team: 2 secrets/);
    assert.match(log, /Warm-up by tag env: 1 secrets/);
    assert.match(log, /Warm-up finished: 2 of 2 secrets fetched/);
  });
});
