/**
 * The real agent process and its cache, seen from outside: answers from a
 * local Secrets Manager and the upstream calls they cost.
 */

import assert from "node:assert/strict";
import type { RunningAgent } from "../support/agent_process.ts";
import {
  callsFor,
  secretPath,
  startAgentsWithServer,
  waitPastTtl,
} from "../support/agent_upstream.ts";
import type { SecretsManagerServer } from "../support/secrets_manager_server.ts";

const GET = "GetSecretValue";
const DESCRIBE = "DescribeSecret";

interface SecretBody {
  readonly ARN: string;
  readonly Name: string;
  readonly VersionId: string;
  readonly SecretString?: string;
  readonly VersionStages: readonly string[];
}

/** Asks the agent for a secret and expects a 200 with a JSON body. */
async function getSecret(
  agent: RunningAgent,
  path: string,
): Promise<{ text: string; body: SecretBody }> {
  const response = await agent.get(path);
  assert.equal(response.status, 200, `${path}: ${response.body}`);
  return { text: response.body, body: JSON.parse(response.body) };
}

/** The GetSecretValue and DescribeSecret calls that named `secretId`. */
function upstream(
  server: SecretsManagerServer,
  secretId: string,
): { get: number; describe: number } {
  return {
    get: callsFor(server, GET, secretId),
    describe: callsFor(server, DESCRIBE, secretId),
  };
}

Deno.test("agent with the default cache", async (t) => {
  await using env = await startAgentsWithServer([""]);
  const { server } = env;
  const [agent] = env.agents;

  await t.step(
    "a second request for a secret is a hit with no upstream call",
    async () => {
      server.createSecret("hit/db", "hit-value");
      const first = await getSecret(agent, secretPath("hit/db"));
      assert.equal(first.body.SecretString, "hit-value");
      assert.equal(callsFor(server, GET, "hit/db"), 1);
      const second = await getSecret(agent, secretPath("hit/db"));
      assert.equal(second.text, first.text);
      assert.deepEqual(upstream(server, "hit/db"), { get: 1, describe: 0 });
    },
  );

  await t.step("path style and query style share one cache entry", async () => {
    server.createSecret("styles/db", "styles-value");
    const query = await getSecret(agent, secretPath("styles/db"));
    const path = await getSecret(agent, "/v1/styles%2Fdb");
    assert.equal(path.text, query.text);
    assert.equal(callsFor(server, GET, "styles/db"), 1);
  });

  await t.step(
    "a secret's name and its ARN are separate cache keys",
    async () => {
      const { arn } = server.createSecret("keys/name-arn", "name-arn-value");
      const byName = await getSecret(agent, secretPath("keys/name-arn"));
      const byArn = await getSecret(agent, secretPath(arn));
      assert.equal(byArn.body.SecretString, "name-arn-value");
      assert.equal(byArn.body.ARN, byName.body.ARN);
      assert.equal(callsFor(server, GET, "keys/name-arn"), 1);
      assert.equal(callsFor(server, GET, arn), 1);
      await getSecret(agent, secretPath("keys/name-arn"));
      await getSecret(agent, secretPath(arn));
      assert.equal(callsFor(server, GET, "keys/name-arn"), 1);
      assert.equal(callsFor(server, GET, arn), 1);
    },
  );

  await t.step(
    "versionId and versionStage requests are separate cache keys",
    async () => {
      const { versionId } = server.createSecret("keys/versions", "v1-value");
      const paths = [
        secretPath("keys/versions"),
        secretPath("keys/versions", { versionStage: "AWSCURRENT" }),
        secretPath("keys/versions", { versionId }),
        secretPath("keys/versions", { versionId, versionStage: "AWSCURRENT" }),
      ];
      for (const [index, path] of paths.entries()) {
        const { body } = await getSecret(agent, path);
        assert.equal(body.VersionId, versionId);
        assert.equal(callsFor(server, GET, "keys/versions"), index + 1);
      }
      for (const path of paths) await getSecret(agent, path);
      assert.deepEqual(upstream(server, "keys/versions"), {
        get: paths.length,
        describe: 0,
      });
    },
  );

  await t.step(
    "after rotation the cached value is served until refreshNow=true fetches and stores the new one",
    async () => {
      const first = server.createSecret("rotate/db", "old-value");
      await getSecret(agent, secretPath("rotate/db"));
      const second = server.putSecretValue("rotate/db", "new-value");

      const plain = await getSecret(agent, secretPath("rotate/db"));
      assert.equal(plain.body.SecretString, "old-value");
      assert.equal(plain.body.VersionId, first.versionId);
      assert.equal(callsFor(server, GET, "rotate/db"), 1);

      const refreshed = await getSecret(
        agent,
        secretPath("rotate/db", { refreshNow: "true" }),
      );
      assert.equal(refreshed.body.SecretString, "new-value");
      assert.equal(refreshed.body.VersionId, second.versionId);
      assert.equal(callsFor(server, GET, "rotate/db"), 2);

      const after = await getSecret(agent, secretPath("rotate/db"));
      assert.equal(after.text, refreshed.text);
      assert.deepEqual(upstream(server, "rotate/db"), { get: 2, describe: 0 });
    },
  );

  await t.step(
    "AWSCURRENT moved by UpdateSecretVersionStage to a version that already existed is seen with refreshNow=true",
    async () => {
      const first = server.createSecret("stage/now", "stage-old");
      const pending = server.putSecretValue("stage/now", "stage-new", {
        versionStages: ["AWSPENDING"],
      });
      const cached = await getSecret(agent, secretPath("stage/now"));
      assert.equal(cached.body.VersionId, first.versionId);
      server.store.updateSecretVersionStage("stage/now", "AWSCURRENT", {
        moveToVersionId: pending.versionId,
        removeFromVersionId: first.versionId,
      });
      const plain = await getSecret(agent, secretPath("stage/now"));
      assert.equal(plain.text, cached.text, "still cached");
      const refreshed = await getSecret(
        agent,
        secretPath("stage/now", { refreshNow: "true" }),
      );
      assert.equal(refreshed.body.VersionId, pending.versionId);
      assert.equal(refreshed.body.SecretString, "stage-new");
      assert.ok(refreshed.body.VersionStages.includes("AWSCURRENT"));
      const after = await getSecret(agent, secretPath("stage/now"));
      assert.equal(after.text, refreshed.text);
    },
  );

  await t.step(
    "an error is never cached: a missing secret created afterwards is served",
    async () => {
      const missing = await agent.get(secretPath("later/db"));
      assert.equal(missing.status, 400);
      assert.equal(
        JSON.parse(missing.body).__type,
        "ResourceNotFoundException",
      );
      server.createSecret("later/db", "later-value");
      const found = await getSecret(agent, secretPath("later/db"));
      assert.equal(found.body.SecretString, "later-value");
      assert.equal(callsFor(server, GET, "later/db"), 2);
    },
  );

  await t.step(
    "refreshNow=true on a missing secret answers 400 ResourceNotFoundException",
    async () => {
      const response = await agent.get(
        secretPath("never/db", { refreshNow: "true" }),
      );
      assert.equal(response.status, 400);
      const body = JSON.parse(response.body);
      assert.equal(body.__type, "ResourceNotFoundException");
      assert.equal(typeof body.message, "string");
    },
  );

  await t.step(
    "200 concurrent requests for one uncached secret make one GetSecretValue call",
    async () => {
      server.createSecret("crowd/db", "crowd-value");
      server.setFault({ kind: "latency", ms: 200 }, { operations: [GET] });
      try {
        const responses = await Promise.all(
          Array.from({ length: 200 }, () => agent.get(secretPath("crowd/db"))),
        );
        assert.deepEqual(
          new Set(responses.map((r) => r.status)),
          new Set([200]),
        );
        assert.equal(new Set(responses.map((r) => r.body)).size, 1);
        assert.equal(JSON.parse(responses[0].body).SecretString, "crowd-value");
      } finally {
        server.setFault(undefined);
      }
      assert.equal(callsFor(server, GET, "crowd/db"), 1);
    },
  );
});

Deno.test("agent with a one-second TTL", async (t) => {
  await using env = await startAgentsWithServer(["ttl_seconds = 1\n"]);
  const { server } = env;
  const [agent] = env.agents;

  const renew = server.createSecret("expire/renew", "renew-value");
  const rotate = server.createSecret("expire/rotate", "rotate-old");
  const pinned = server.createSecret("expire/pinned", "pinned-old");
  const cached = await getSecret(agent, secretPath("expire/renew"));
  await getSecret(agent, secretPath("expire/rotate"));
  const pinnedPath = secretPath("expire/pinned", {
    versionId: pinned.versionId,
  });
  const pinnedCached = await getSecret(agent, pinnedPath);
  const staged = server.createSecret("expire/stage", "stage-old");
  const pending = server.putSecretValue("expire/stage", "stage-new", {
    versionStages: ["AWSPENDING"],
  });
  await getSecret(agent, secretPath("expire/stage"));
  const rotated = server.putSecretValue("expire/rotate", "rotate-new");
  server.putSecretValue("expire/pinned", "pinned-new");
  server.store.updateSecretVersionStage("expire/stage", "AWSCURRENT", {
    moveToVersionId: pending.versionId,
    removeFromVersionId: staged.versionId,
  });
  await waitPastTtl(1);

  await t.step(
    "an expired entry still current is renewed by DescribeSecret alone, which restarts its TTL",
    async () => {
      const renewed = await getSecret(agent, secretPath("expire/renew"));
      assert.equal(renewed.text, cached.text);
      assert.equal(renewed.body.VersionId, renew.versionId);
      assert.deepEqual(upstream(server, "expire/renew"), {
        get: 1,
        describe: 1,
      });
      await getSecret(agent, secretPath("expire/renew"));
      assert.deepEqual(upstream(server, "expire/renew"), {
        get: 1,
        describe: 1,
      });
    },
  );

  await t.step(
    "an expired entry after rotation is fetched again: DescribeSecret then GetSecretValue",
    async () => {
      const { body } = await getSecret(agent, secretPath("expire/rotate"));
      assert.equal(body.SecretString, "rotate-new");
      assert.equal(body.VersionId, rotated.versionId);
      assert.notEqual(body.VersionId, rotate.versionId);
      assert.deepEqual(upstream(server, "expire/rotate"), {
        get: 2,
        describe: 1,
      });
      const calls = server.calls()
        .filter((call) => call.secretId === "expire/rotate")
        .map((call) => call.operation);
      assert.deepEqual(calls, [GET, DESCRIBE, GET]);
    },
  );

  await t.step(
    "an expired entry whose AWSCURRENT was moved to a version that already existed is fetched again",
    async () => {
      const { body } = await getSecret(agent, secretPath("expire/stage"));
      assert.equal(body.VersionId, pending.versionId);
      assert.equal(body.SecretString, "stage-new");
      assert.deepEqual(upstream(server, "expire/stage"), {
        get: 2,
        describe: 1,
      });
    },
  );

  await t.step(
    "an expired entry asked for by versionId is renewed while that version exists",
    async () => {
      const renewed = await getSecret(agent, pinnedPath);
      assert.equal(renewed.text, pinnedCached.text);
      assert.equal(renewed.body.SecretString, "pinned-old");
      assert.deepEqual(upstream(server, "expire/pinned"), {
        get: 1,
        describe: 1,
      });
    },
  );

  await t.step(
    "while Secrets Manager throttles, an expired entry is served from the cache and renewed with back-off; a throttled miss is the error",
    async () => {
      const held = server.createSecret("throttle/db", "throttle-old");
      await getSecret(agent, secretPath("throttle/db"));
      server.putSecretValue("throttle/db", "throttle-new");
      server.setFault({ kind: "throttle" }, {
        operations: [GET, DESCRIBE],
      });
      try {
        await waitPastTtl(1);
        const deadline = Date.now() + 3_000;
        let served = 0;
        while (Date.now() < deadline && served < 40) {
          const { body } = await getSecret(agent, secretPath("throttle/db"));
          assert.equal(body.SecretString, "throttle-old");
          assert.equal(body.VersionId, held.versionId);
          served++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // Back-off: far fewer renewals than requests (each DescribeSecret
        // is 3 SDK attempts).
        const describes = callsFor(server, DESCRIBE, "throttle/db");
        assert.ok(describes >= 3 && describes <= 3 * 4, `${describes} calls`);
        const miss = await agent.get(secretPath("throttle/other"));
        assert.equal(miss.status, 400, miss.body);
        assert.equal(JSON.parse(miss.body).__type, "ThrottlingException");
      } finally {
        server.setFault(undefined);
      }
      let latest = "";
      for (let i = 0; i < 100 && latest !== "throttle-new"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        latest = (await getSecret(agent, secretPath("throttle/db"))).body
          .SecretString ??
          "";
      }
      assert.equal(latest, "throttle-new");
    },
  );
});

Deno.test("agents with ttl_seconds = 0 or cache_size = 0 call GetSecretValue for every request", async () => {
  await using env = await startAgentsWithServer([
    "ttl_seconds = 0\n",
    "cache_size = 0\n",
  ]);
  const { server } = env;
  for (const [index, agent] of env.agents.entries()) {
    const name = `uncached/${index}`;
    server.createSecret(name, `uncached-value-${index}`);
    for (let i = 1; i <= 3; i++) {
      const { body } = await getSecret(agent, secretPath(name));
      assert.equal(body.SecretString, `uncached-value-${index}`);
      assert.deepEqual(upstream(server, name), { get: i, describe: 0 });
    }
  }
});
