import assert from "node:assert/strict";
import { RoleClients, sessionCredentials } from "../../src/aws/role_clients.ts";
import type { Credentials } from "../../src/aws/credentials.ts";

const HOUR_MS = 3_600_000;

function credentialsUntil(expiresAtMs: number, id = "ASIA1"): Credentials {
  return {
    accessKeyId: id,
    secretAccessKey: "secret",
    sessionToken: "session",
    expiration: new Date(expiresAtMs),
  };
}

Deno.test("session credentials are reused until five minutes before they expire", async () => {
  let nowMs = 0;
  let calls = 0;
  const provider = sessionCredentials(() => {
    calls++;
    return Promise.resolve(credentialsUntil(nowMs + HOUR_MS, `ASIA${calls}`));
  }, { now: () => nowMs });
  assert.equal((await provider()).accessKeyId, "ASIA1");
  nowMs = HOUR_MS - 5 * 60_000 - 1;
  assert.equal((await provider()).accessKeyId, "ASIA1");
  nowMs = HOUR_MS - 5 * 60_000;
  assert.equal((await provider()).accessKeyId, "ASIA2");
  assert.equal(calls, 2);
});

Deno.test("concurrent callers share one AssumeRole; a failure is not kept", async () => {
  let calls = 0;
  const gate = Promise.withResolvers<void>();
  let fail = true;
  const provider = sessionCredentials(async () => {
    calls++;
    await gate.promise;
    if (fail) throw new Error("denied");
    return credentialsUntil(Date.now() + HOUR_MS);
  });
  const waiting = Array.from({ length: 5 }, () => provider());
  gate.resolve();
  const outcomes = await Promise.allSettled(waiting);
  assert.ok(outcomes.every((outcome) => outcome.status === "rejected"));
  assert.equal(calls, 1);
  fail = false;
  assert.equal((await provider()).accessKeyId, "ASIA1");
  assert.equal(calls, 2);
});

Deno.test("credentials without an expiration are kept", async () => {
  let calls = 0;
  const provider = sessionCredentials(() => {
    calls++;
    return Promise.resolve({ accessKeyId: "A", secretAccessKey: "s" });
  });
  await provider();
  await provider();
  assert.equal(calls, 1);
});

Deno.test("role clients are built once per role, at most maxRoles kept, evicted ones destroyed", () => {
  const destroyed: string[] = [];
  let built = 0;
  const roles = new RoleClients(2, (roleArn) => {
    built++;
    return { roleArn, destroy: () => destroyed.push(roleArn) };
  });
  const a = roles.get("a");
  assert.equal(roles.get("a"), a);
  roles.get("b");
  roles.get("a"); // a is now the most recently used
  roles.get("c");
  assert.deepEqual(destroyed, ["b"]);
  assert.equal(roles.size, 2);
  assert.equal(built, 3);
  roles.destroy();
  assert.deepEqual(destroyed.sort(), ["a", "b", "c"]);
  assert.equal(roles.size, 0);
});

Deno.test("maxRoles must be a positive integer", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new RoleClients(bad, () => ({ destroy() {} })),
      RangeError,
    );
  }
});
