/**
 * Cross-account reads, end to end: `roleArn` makes the agent assume the
 * role through STS (once per role while its credentials last) and read with
 * those credentials; each role has its own cache entries; a denied role is
 * AWS's error, and so is a role without Secrets Manager access; off unless `allow_role_arn = true`; at most
 * `max_assumed_roles` roles are kept.
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";

const ROLE_A = "arn:aws:iam::111111111111:role/reader";
const ROLE_B = "arn:aws:iam::222222222222:role/team/reader";

/** A server holding the test's secret. */
function withServer(
  fn: (server: SecretsManagerServer) => Promise<void>,
): Promise<void> {
  return withSecretsManagerServer((server) => {
    server.createSecret("shared/db", "cross-account-value");
    return fn(server);
  });
}

function withRole(roleArn: string): string {
  return `/secretsmanager/get?secretId=shared%2Fdb&roleArn=${
    encodeURIComponent(roleArn)
  }`;
}

/** The role each GetSecretValue was signed with ("" for the agent's own). */
function signers(server: SecretsManagerServer): string[] {
  return server.calls()
    .filter((call) => call.operation === "GetSecretValue")
    .map((call) => call.roleArn ?? "");
}

Deno.test("roleArn reads with the assumed role's credentials, one cache entry per role", async () => {
  await withServer(async (server) => {
    await using agent = await startAgent({
      endpoint: server.url,
      config: "allow_role_arn = true",
    });
    server.resetCalls();
    const own = await agent.get("/secretsmanager/get?secretId=shared%2Fdb");
    const viaA = await agent.get(withRole(ROLE_A));
    const viaB = await agent.get(
      `/v1/shared%2Fdb?roleArn=${encodeURIComponent(ROLE_B)}`,
    );
    for (const response of [own, viaA, viaB]) {
      assert.equal(response.status, 200, response.body);
      assert.equal(
        JSON.parse(response.body).SecretString,
        "cross-account-value",
      );
    }
    assert.deepEqual(signers(server), ["", ROLE_A, ROLE_B]);
    // Each role's entry is a hit now, and its credentials are reused.
    assert.equal((await agent.get(withRole(ROLE_A))).status, 200);
    assert.equal((await agent.get(withRole(ROLE_B))).status, 200);
    assert.equal(server.countCalls("GetSecretValue"), 3);
    assert.equal(server.countCalls("AssumeRole"), 2);
    const refreshed = await agent.get(`${withRole(ROLE_A)}&refreshNow=true`);
    assert.equal(refreshed.status, 200);
    assert.deepEqual(signers(server).at(-1), ROLE_A);
    assert.equal(server.countCalls("AssumeRole"), 2, "credentials still valid");
  });
});

Deno.test("a role STS refuses is AWS's AccessDenied, a role without access is Secrets Manager's AccessDeniedException, and neither is cached", async () => {
  await withServer(async (server) => {
    server.denyRole(ROLE_A);
    await using agent = await startAgent({
      endpoint: server.url,
      config: "allow_role_arn = true",
    });
    const denied = await agent.get(withRole(ROLE_A));
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.body).__type, "AccessDenied");
    assert.equal(server.countCalls("GetSecretValue"), 0);
    await agent.get(withRole(ROLE_A));
    assert.equal(
      server.countCalls("AssumeRole"),
      2,
      "the failure was not kept",
    );
    const log = await agent.logText();
    assert.match(
      log,
      /GET \/secretsmanager\/get\?secretId=shared%2Fdb&roleArn=.* 403/,
    );

    // A role that can be assumed but may not read: Secrets Manager's own
    // refusal of the assumed credentials, passed through and not cached.
    server.denyServicesToRole(ROLE_B);
    for (const attempt of [1, 2]) {
      const noAccess = await agent.get(withRole(ROLE_B));
      assert.equal(noAccess.status, 400, noAccess.body);
      const body = JSON.parse(noAccess.body);
      assert.equal(body.__type, "AccessDeniedException");
      assert.match(
        body.message,
        /^User: arn:aws:sts::222222222222:assumed-role\/reader\/\S+ is not authorized to perform: secretsmanager:GetSecretValue\b/,
      );
      assert.equal(server.countCalls("GetSecretValue"), attempt);
    }
    assert.deepEqual(signers(server), [ROLE_B, ROLE_B]);
  });
});

Deno.test("roleArn is an unknown parameter unless allowed, and a malformed one is refused", async () => {
  await withServer(async (server) => {
    {
      await using agent = await startAgent({ endpoint: server.url });
      const response = await agent.get(withRole(ROLE_A));
      assert.equal(response.status, 400);
      assert.equal(response.body, "unknown parameter: roleArn");
    }
    await using agent = await startAgent({
      endpoint: server.url,
      config: "allow_role_arn = true",
    });
    for (
      const bad of [
        "reader",
        "arn:aws:iam::12345:role/reader",
        "arn:aws:iam::111111111111:user/reader",
        "arn:aws:sts::111111111111:assumed-role/reader/s",
      ]
    ) {
      const response = await agent.get(withRole(bad));
      assert.equal(response.status, 400, bad);
      assert.equal(
        response.body,
        "invalid roleArn format, expected arn:<partition>:iam::<account>:role/<name>",
        bad,
      );
    }
    assert.equal(server.countCalls("AssumeRole"), 0);
  });
});

Deno.test("max_assumed_roles bounds the roles kept: an evicted role is assumed again", async () => {
  await withServer(async (server) => {
    await using agent = await startAgent({
      endpoint: server.url,
      // No caching, so every request needs its role's credentials.
      config: "allow_role_arn = true\nmax_assumed_roles = 1\nttl_seconds = 0",
    });
    await agent.get(withRole(ROLE_A));
    await agent.get(withRole(ROLE_A));
    assert.equal(server.countCalls("AssumeRole"), 1);
    await agent.get(withRole(ROLE_B));
    await agent.get(withRole(ROLE_A));
    assert.equal(server.countCalls("AssumeRole"), 3);
    assert.deepEqual(signers(server), [ROLE_A, ROLE_A, ROLE_B, ROLE_A]);
  });
});

Deno.test("roleArn works for Parameter Store too", async () => {
  await withServer(async (server) => {
    server.putParameter("/shared/param", "cross-param");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "allow_role_arn = true\nparameter_store = true",
    });
    const response = await agent.get(
      `/systemsmanager/parameters/get?name=%2Fshared%2Fparam&roleArn=${
        encodeURIComponent(ROLE_B)
      }`,
    );
    assert.equal(response.status, 200, response.body);
    assert.equal(JSON.parse(response.body).Parameter.Value, "cross-param");
    const call = server.calls().find((c) => c.operation === "GetParameter");
    assert.equal(call?.roleArn, ROLE_B);
  });
});
