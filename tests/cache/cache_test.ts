import assert from "node:assert/strict";
import {
  type CacheResult,
  SecretCache,
  type SecretCacheOptions,
} from "../../src/cache/cache.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import { UpstreamError, type UpstreamFailure } from "../../src/errors.ts";
import { arnOf, FakeSource, NOT_FOUND } from "../support/fake_source.ts";

const TTL_SECONDS = 300;
const TTL_MS = TTL_SECONDS * 1000;

const TIMEOUT: UpstreamFailure = { kind: "timeout" };
const CONNECTION: UpstreamFailure = { kind: "connection" };
const SERVER_ERROR: UpstreamFailure = {
  kind: "service",
  status: 500,
  code: "InternalServiceError",
  message: "Internal error",
};
const THROTTLED: UpstreamFailure = {
  kind: "service",
  status: 400,
  code: "ThrottlingException",
  message: "Rate exceeded",
};

/** A cache over a fake source with a clock the test moves by hand. */
function setup(options: Partial<SecretCacheOptions> = {}) {
  const source = new FakeSource();
  const clock = { nowMs: 1_000_000 };
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: TTL_SECONDS,
    cacheSize: 1000,
    ignoreTransientErrors: true,
    now: () => clock.nowMs,
    ...options,
  });
  const advance = (ms: number) => {
    clock.nowMs += ms;
  };
  return { source, cache, clock, advance };
}

function secretString(result: CacheResult): string {
  return JSON.parse(result.body).SecretString;
}

async function rejectsWith(
  promise: Promise<unknown>,
  failure: UpstreamFailure,
): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof UpstreamError);
    assert.deepEqual(error.failure, failure);
    return true;
  });
}

Deno.test("a miss fetches once and returns the GetSecretValue body", async () => {
  const { source, cache } = setup();
  const versionId = source.put("db", "s3cret");
  const result = await cache.get({ secretId: "db" });
  assert.equal(result.outcome, "miss");
  assert.deepEqual(JSON.parse(result.body), {
    ARN: arnOf("db"),
    Name: "db",
    VersionId: versionId,
    SecretString: "s3cret",
    VersionStages: ["AWSCURRENT"],
    CreatedDate: "1700000000.001",
  });
  assert.deepEqual(source.requests, [{ secretId: "db" }]);
  assert.equal(cache.size, 1);
});

Deno.test("a hit within the TTL makes no source call", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  const first = await cache.get({ secretId: "db" });
  advance(TTL_MS - 1);
  const second = await cache.get({ secretId: "db" });
  assert.equal(second.outcome, "hit");
  assert.equal(second.body, first.body);
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 0 });
});

Deno.test("peek answers a fresh entry at once, counted as a hit, and leaves everything else to get", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  assert.equal(cache.peek({ secretId: "db", refreshNow: false }), undefined);
  const first = await cache.get({ secretId: "db" });
  assert.equal(
    cache.peek({ secretId: "db", refreshNow: false })?.body,
    first.body,
  );
  assert.equal(cache.peek({ secretId: "db", refreshNow: true }), undefined);
  assert.equal(
    cache.peek({ secretId: "db", versionStage: "AWSPREVIOUS" }),
    undefined,
    "another key",
  );
  assert.equal(cache.stats().hits, 1);
  advance(TTL_MS);
  assert.equal(cache.peek({ secretId: "db" }), undefined, "expired");
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 0 });
});

Deno.test("peek finds nothing when caching is off", async () => {
  const { source, cache } = setup({ ttlSeconds: 0 });
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  assert.equal(cache.peek({ secretId: "db" }), undefined);
});

Deno.test("an expired entry still current is renewed by DescribeSecret alone, and its TTL restarts", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  const first = await cache.get({ secretId: "db" });
  advance(TTL_MS);
  const renewed = await cache.get({ secretId: "db" });
  assert.equal(renewed.outcome, "renewed");
  assert.equal(renewed.body, first.body);
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
  advance(TTL_MS - 1);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
});

Deno.test("an expired entry after rotation is fetched again with the new value", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.put("db", "two");
  advance(TTL_MS);
  const result = await cache.get({ secretId: "db" });
  assert.equal(result.outcome, "refetched");
  assert.equal(secretString(result), "two");
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 1 });
  assert.equal(secretString(await cache.get({ secretId: "db" })), "two");
  assert.equal(source.calls.getSecretValue, 2);
});

Deno.test("a requested versionId is renewed while that version exists, even after rotation", async () => {
  const { source, cache, advance } = setup();
  const oldVersion = source.put("db", "one");
  await cache.get({ secretId: "db", versionId: oldVersion });
  source.put("db", "two");
  advance(TTL_MS);
  const result = await cache.get({ secretId: "db", versionId: oldVersion });
  assert.equal(result.outcome, "renewed");
  assert.equal(secretString(result), "one");
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
});

Deno.test("a requested versionId that disappeared propagates ResourceNotFound", async () => {
  const { source, cache, advance } = setup();
  const oldVersion = source.put("db", "one");
  await cache.get({ secretId: "db", versionId: oldVersion });
  source.put("db", "two");
  source.put("db", "three");
  source.dropVersion("db", oldVersion);
  advance(TTL_MS);
  await rejectsWith(
    cache.get({ secretId: "db", versionId: oldVersion }),
    NOT_FOUND,
  );
  assert.equal(cache.size, 0);
});

Deno.test("a custom stage that moved to another version is fetched again", async () => {
  const { source, cache, advance } = setup();
  const blue = source.put("db", "blue");
  source.label("db", "LIVE", blue);
  const green = source.put("db", "green");
  const first = await cache.get({ secretId: "db", versionStage: "LIVE" });
  assert.equal(secretString(first), "blue");

  advance(TTL_MS);
  const renewed = await cache.get({ secretId: "db", versionStage: "LIVE" });
  assert.equal(renewed.outcome, "renewed");

  source.label("db", "LIVE", green);
  advance(TTL_MS);
  const moved = await cache.get({ secretId: "db", versionStage: "LIVE" });
  assert.equal(moved.outcome, "refetched");
  assert.equal(secretString(moved), "green");
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 2 });
});

Deno.test("a versionId with a versionStage is renewed only while that version holds the stage", async () => {
  const { source, cache, advance } = setup();
  const first = source.put("db", "one");
  const lookup = {
    secretId: "db",
    versionId: first,
    versionStage: "AWSCURRENT",
  };
  await cache.get(lookup);
  advance(TTL_MS);
  assert.equal((await cache.get(lookup)).outcome, "renewed");

  source.put("db", "two");
  advance(TTL_MS);
  // AWSCURRENT left the version: the check fails and GetSecretValue says so.
  await rejectsWith(cache.get(lookup), NOT_FOUND);
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 2 });
});

Deno.test("touching an entry protects it: the least recently used is evicted, not the oldest write", async () => {
  const { source, cache } = setup({ cacheSize: 3 });
  for (const name of ["a", "b", "c", "d"]) source.put(name, name);
  await cache.get({ secretId: "a" });
  await cache.get({ secretId: "b" });
  await cache.get({ secretId: "c" });
  assert.equal((await cache.get({ secretId: "a" })).outcome, "hit");
  await cache.get({ secretId: "d" });
  assert.equal(cache.size, 3);
  assert.equal(source.calls.getSecretValue, 4);

  assert.equal((await cache.get({ secretId: "a" })).outcome, "hit");
  assert.equal((await cache.get({ secretId: "c" })).outcome, "hit");
  assert.equal((await cache.get({ secretId: "d" })).outcome, "hit");
  assert.equal(source.calls.getSecretValue, 4);
  assert.equal((await cache.get({ secretId: "b" })).outcome, "miss");
  assert.equal(source.calls.getSecretValue, 5);
  assert.equal(cache.stats().evictions, 2);
});

Deno.test("name, ARN, versionId and versionStage each make a separate key", async () => {
  const { source, cache } = setup();
  const versionId = source.put("db", "one");
  const lookups = [
    { secretId: "db" },
    { secretId: arnOf("db") },
    { secretId: "db", versionId },
    { secretId: "db", versionStage: "AWSCURRENT" },
    { secretId: "db", versionId, versionStage: "AWSCURRENT" },
  ];
  for (const lookup of lookups) {
    assert.equal((await cache.get(lookup)).outcome, "miss");
  }
  for (const lookup of lookups) {
    assert.equal((await cache.get(lookup)).outcome, "hit");
  }
  assert.equal(source.calls.getSecretValue, lookups.length);
  assert.equal(cache.size, lookups.length);
  assert.deepEqual(source.requests, lookups);
});

for (const disabled of [{ ttlSeconds: 0 }, { cacheSize: 0 }]) {
  Deno.test(`${JSON.stringify(disabled)} sends every request to the source and stores nothing`, async () => {
    const { source, cache } = setup(disabled);
    source.put("db", "one");
    for (let i = 0; i < 3; i++) {
      const result = await cache.get({ secretId: "db" });
      assert.equal(result.outcome, "uncached");
      assert.equal(secretString(result), "one");
    }
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => cache.get({ secretId: "db" })),
    );
    assert.equal(concurrent.length, 5);
    assert.equal(source.calls.getSecretValue, 8);
    assert.equal(source.calls.describeSecret, 0);
    assert.equal(cache.size, 0);
    assert.equal(cache.stats().uncached, 8);
  });
}

Deno.test("refreshNow bypasses a fresh entry, fetches, and stores the new value", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.put("db", "two");
  assert.equal(secretString(await cache.get({ secretId: "db" })), "one");
  const refreshed = await cache.get({ secretId: "db", refreshNow: true });
  assert.equal(refreshed.outcome, "refresh");
  assert.equal(secretString(refreshed), "two");
  assert.deepEqual(source.requests.at(-1), { secretId: "db" });
  const after = await cache.get({ secretId: "db" });
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after), "two");
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 0 });
});

for (
  const [label, failure] of [
    ["a timeout", TIMEOUT],
    ["a connection error", CONNECTION],
    ["a 500", SERVER_ERROR],
  ] as const
) {
  Deno.test(`${label} while refetching an expired entry serves it stale and restarts its TTL`, async () => {
    const { source, cache, advance } = setup();
    source.put("db", "one");
    await cache.get({ secretId: "db" });
    source.put("db", "two");
    source.failWith("getSecretValue", failure);
    advance(TTL_MS);
    const stale = await cache.get({ secretId: "db" });
    assert.equal(stale.outcome, "stale");
    assert.equal(secretString(stale), "one");
    assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 1 });

    advance(TTL_MS - 1);
    assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
    assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 1 });
    assert.equal(cache.stats().staleServes, 1);
  });

  Deno.test(`${label} from DescribeSecret counts as still current`, async () => {
    const { source, cache, advance } = setup();
    source.put("db", "one");
    await cache.get({ secretId: "db" });
    source.failWith("describeSecret", failure);
    advance(TTL_MS);
    const stale = await cache.get({ secretId: "db" });
    assert.equal(stale.outcome, "stale");
    assert.equal(secretString(stale), "one");
    assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
    advance(TTL_MS - 1);
    assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
  });
}

Deno.test("a renewal throttled after expiry serves the cached value and retries after a growing back-off; success ends it", async () => {
  // The lowest draw: each back-off is half its step (0.5, 1, 2 s ...).
  const { source, cache, advance } = setup({ random: () => 0 });
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.failWith("describeSecret", THROTTLED);
  advance(TTL_MS);
  for (const backOffMs of [500, 1_000, 2_000, 4_000]) {
    const calls = source.calls.describeSecret;
    const served = await cache.get({ secretId: "db" });
    assert.equal(served.outcome, "stale");
    assert.equal(secretString(served), "one");
    assert.equal(source.calls.describeSecret, calls + 1);
    // Inside the back-off: the value is served without a call.
    advance(backOffMs - 1);
    assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
    assert.equal(source.calls.describeSecret, calls + 1);
    advance(1);
  }
  // GetSecretValue throttled too, after a new version: still served.
  source.failWith("describeSecret", undefined);
  source.put("db", "two");
  source.failWith("getSecretValue", THROTTLED);
  const throttledFetch = await cache.get({ secretId: "db" });
  assert.equal(secretString(throttledFetch), "one");
  advance(16_000);
  source.failWith("getSecretValue", undefined);
  const renewed = await cache.get({ secretId: "db" });
  assert.equal(renewed.outcome, "refetched");
  assert.equal(secretString(renewed), "two");
  assert.equal(cache.stats().throttledRenewals, 5);
  assert.equal(cache.stats().errors, 0);
  // A whole TTL again, not a back-off.
  advance(TTL_MS - 1);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
});

Deno.test("back-offs grow with jitter up to the TTL, and a throttled miss or refreshNow still answers the error", async () => {
  const { source, cache, advance } = setup({
    ttlSeconds: 5,
    random: () => 0.999,
  });
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.failWith("describeSecret", THROTTLED);
  advance(5_000);
  const gaps: number[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    await cache.get({ secretId: "db" });
    let waitedMs = 0;
    const calls = source.calls.describeSecret;
    while (source.calls.describeSecret === calls && waitedMs < 10_000) {
      advance(100);
      waitedMs += 100;
      await cache.get({ secretId: "db" });
    }
    gaps.push(waitedMs);
  }
  // Steps of 1, 2, 4 s, then the 5 s TTL caps them (at the highest draw).
  assert.deepEqual(gaps, [1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);

  source.failWith("getSecretValue", THROTTLED);
  await rejectsWith(cache.get({ secretId: "new" }), THROTTLED);
  await rejectsWith(
    cache.get({ secretId: "db", refreshNow: true }),
    THROTTLED,
  );
  // The throttled refreshNow left the entry: throttling says nothing of the secret.
  assert.equal(cache.size, 1);
});

Deno.test("jitterExpiry shortens each entry's life by up to a tenth of the TTL, never lengthens it", async () => {
  const lives: number[] = [];
  for (const draw of [0, 0.5, 0.999]) {
    const { source, cache, advance } = setup({
      jitterExpiry: true,
      random: () => draw,
    });
    source.put("db", "one");
    await cache.get({ secretId: "db" });
    let livedMs = 0;
    while (
      (await cache.get({ secretId: "db" })).outcome === "hit" &&
      livedMs <= TTL_MS
    ) {
      advance(1_000);
      livedMs += 1_000;
    }
    lives.push(livedMs);
  }
  assert.deepEqual(lives, [300_000, 285_000, 271_000]);
});

Deno.test("with ignoreTransientErrors=false a transient error propagates and the entry is kept", async () => {
  const { source, cache, advance } = setup({ ignoreTransientErrors: false });
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.failWith("describeSecret", TIMEOUT);
  advance(TTL_MS);
  await rejectsWith(cache.get({ secretId: "db" }), TIMEOUT);
  assert.equal(cache.size, 1);
  source.failWith("describeSecret", undefined);
  source.put("db", "two");
  source.failWith("getSecretValue", CONNECTION);
  await rejectsWith(cache.get({ secretId: "db" }), CONNECTION);
  source.failWith("getSecretValue", undefined);
  const result = await cache.get({ secretId: "db" });
  assert.equal(result.outcome, "refetched");
  assert.equal(secretString(result), "two");
});

Deno.test("errors are never cached: a failing miss then a success calls the source twice", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  source.failWith("getSecretValue", TIMEOUT);
  await rejectsWith(cache.get({ secretId: "db" }), TIMEOUT);
  assert.equal(cache.size, 0);
  source.failWith("getSecretValue", undefined);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "miss");
  assert.equal(source.calls.getSecretValue, 2);
  assert.equal(cache.stats().errors, 1);
});

Deno.test("ResourceNotFound after deletion propagates and drops the entry, so it is never served stale", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.remove("db");
  advance(TTL_MS);
  await rejectsWith(cache.get({ secretId: "db" }), NOT_FOUND);
  assert.equal(cache.size, 0);
  source.failWith("describeSecret", TIMEOUT);
  source.failWith("getSecretValue", TIMEOUT);
  await rejectsWith(cache.get({ secretId: "db" }), TIMEOUT);
  assert.equal(source.calls.describeSecret, 1);
});

Deno.test("refreshNow for a deleted secret propagates ResourceNotFound and drops the fresh entry", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.remove("db");
  await rejectsWith(cache.get({ secretId: "db", refreshNow: true }), NOT_FOUND);
  await rejectsWith(cache.get({ secretId: "db" }), NOT_FOUND);
  assert.equal(source.calls.getSecretValue, 3);
});

Deno.test("refreshNow failing transiently propagates and keeps the cached entry", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.failWith("getSecretValue", TIMEOUT);
  await rejectsWith(cache.get({ secretId: "db", refreshNow: true }), TIMEOUT);
  const after = await cache.get({ secretId: "db" });
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after), "one");
});

Deno.test("a plain get on an expired entry that joins a failing refreshNow is still served stale", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  source.failWith("getSecretValue", TIMEOUT);
  const release = source.hold("getSecretValue");
  const refreshing = cache.get({ secretId: "db", refreshNow: true });
  const plain = cache.get({ secretId: "db" });
  release();
  await rejectsWith(refreshing, TIMEOUT);
  const stale = await plain;
  assert.equal(stale.outcome, "stale");
  assert.equal(secretString(stale), "one");
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 0 });
  assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
});

Deno.test("a plain get joining a refreshNow that finds the secret deleted gets ResourceNotFound", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  source.remove("db");
  const release = source.hold("getSecretValue");
  const refreshing = cache.get({ secretId: "db", refreshNow: true });
  const plain = cache.get({ secretId: "db" });
  release();
  await rejectsWith(refreshing, NOT_FOUND);
  await rejectsWith(plain, NOT_FOUND);
  assert.equal(cache.size, 0);
});

Deno.test("200 concurrent gets for one uncached key share one GetSecretValue", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  const release = source.hold("getSecretValue");
  const pending = Array.from(
    { length: 200 },
    () => cache.get({ secretId: "db" }),
  );
  assert.equal(source.calls.getSecretValue, 1);
  assert.equal(cache.stats().inFlight, 1);
  release();
  const results = await Promise.all(pending);
  const bodies = new Set(results.map((result) => result.body));
  assert.equal(bodies.size, 1);
  assert.equal(secretString(results[0]), "one");
  assert.equal(source.calls.getSecretValue, 1);
  const stats = cache.stats();
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.coalesced, 199);
  assert.equal(stats.misses, 200);
});

Deno.test("50 concurrent gets on an expired key share one DescribeSecret", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  const release = source.hold("describeSecret");
  const pending = Array.from(
    { length: 50 },
    () => cache.get({ secretId: "db" }),
  );
  release();
  const results = await Promise.all(pending);
  assert.ok(results.every((result) => result.outcome === "renewed"));
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
  assert.equal(cache.stats().inFlight, 0);
});

Deno.test("concurrent gets on a rotated expired key share one DescribeSecret and one GetSecretValue", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  source.put("db", "two");
  advance(TTL_MS);
  const release = source.hold("getSecretValue");
  const pending = Array.from(
    { length: 20 },
    () => cache.get({ secretId: "db" }),
  );
  // Requests arriving while the refetch is in flight join it too.
  await Promise.resolve();
  pending.push(cache.get({ secretId: "db" }));
  release();
  const results = await Promise.all(pending);
  assert.ok(results.every((result) => secretString(result) === "two"));
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 1 });
});

Deno.test("a shared error reaches every waiter, is not cached, and the next request calls again", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  const release = source.hold("getSecretValue");
  source.failWith("getSecretValue", CONNECTION);
  const pending = Array.from(
    { length: 30 },
    () => cache.get({ secretId: "db" }),
  );
  release();
  const settled = await Promise.allSettled(pending);
  for (const outcome of settled) {
    assert.equal(outcome.status, "rejected");
    assert.ok(outcome.reason instanceof UpstreamError);
    assert.deepEqual(outcome.reason.failure, CONNECTION);
  }
  assert.equal(source.calls.getSecretValue, 1);
  assert.equal(cache.stats().inFlight, 0);
  assert.equal(cache.stats().errors, 30);
  source.failWith("getSecretValue", undefined);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "miss");
  assert.equal(source.calls.getSecretValue, 2);
});

Deno.test("a refreshNow burst shares one GetSecretValue and joins an in-flight miss", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  const release = source.hold("getSecretValue");
  const pending = [
    cache.get({ secretId: "db" }),
    ...Array.from(
      { length: 10 },
      () => cache.get({ secretId: "db", refreshNow: true }),
    ),
  ];
  release();
  await Promise.all(pending);
  assert.equal(source.calls.getSecretValue, 1);
  const releaseAgain = source.hold("getSecretValue");
  const burst = Array.from(
    { length: 10 },
    () => cache.get({ secretId: "db", refreshNow: true }),
  );
  releaseAgain();
  const results = await Promise.all(burst);
  assert.ok(results.every((result) => result.outcome === "refresh"));
  assert.equal(source.calls.getSecretValue, 2);
  assert.equal(cache.stats().inFlight, 0);
});

Deno.test("refreshNow during a renewal starts its own fetch and its value is kept", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  const releaseDescribe = source.hold("describeSecret");
  const renewing = cache.get({ secretId: "db" });
  source.put("db", "two");
  const refreshed = await cache.get({ secretId: "db", refreshNow: true });
  assert.equal(secretString(refreshed), "two");
  releaseDescribe();
  // The renewal saw "one" no longer current and fetched "two" as well.
  assert.equal(secretString(await renewing), "two");
  const after = await cache.get({ secretId: "db" });
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after), "two");
  assert.equal(cache.stats().inFlight, 0);
});

Deno.test("a renewal finishing after a refreshNow does not overwrite the newer value", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  source.failWith("describeSecret", TIMEOUT);
  const releaseDescribe = source.hold("describeSecret");
  const renewing = cache.get({ secretId: "db" });
  source.put("db", "two");
  await cache.get({ secretId: "db", refreshNow: true });
  releaseDescribe();
  assert.equal((await renewing).outcome, "stale");
  assert.equal(secretString(await cache.get({ secretId: "db" })), "two");
});

Deno.test("the LRU bound holds under churn of 10k distinct keys", async () => {
  const { source, cache } = setup({ cacheSize: 100 });
  for (let i = 0; i < 10_000; i++) source.put(`secret-${i}`, `value-${i}`);
  for (let i = 0; i < 10_000; i++) {
    await cache.get({ secretId: `secret-${i}` });
    assert.ok(cache.size <= 100);
  }
  const stats = cache.stats();
  assert.equal(stats.entries, 100);
  assert.equal(stats.evictions, 9_900);
  assert.equal(stats.inFlight, 0);
  assert.equal((await cache.get({ secretId: "secret-9999" })).outcome, "hit");
  assert.equal((await cache.get({ secretId: "secret-0" })).outcome, "miss");
});

Deno.test("a clock stepped backwards makes an entry due for a check", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(-1);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "renewed");
  assert.equal(source.calls.describeSecret, 1);
});

Deno.test("an unexpected throw from the source becomes an internal UpstreamError", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  source.failWith("getSecretValue", new TypeError("boom"));
  await rejectsWith(cache.get({ secretId: "db" }), {
    kind: "internal",
    detail: "unexpected TypeError from the secrets source",
  });
});

Deno.test("stats count each outcome as plain numbers", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  await cache.get({ secretId: "db" });
  await cache.get({ secretId: "db", refreshNow: true });
  assert.deepEqual(cache.stats(), {
    hits: 1,
    misses: 1,
    renewals: 1,
    refetches: 0,
    staleServes: 0,
    renewingServes: 0,
    refreshes: 1,
    uncached: 0,
    errors: 0,
    coalesced: 0,
    evictions: 0,
    oversized: 0,
    refreshAheads: 0,
    refreshAheadFailures: 0,
    throttledRenewals: 0,
    entries: 1,
    bytes: cache.stats().bytes,
    inFlight: 0,
  });
  assert.ok(cache.stats().bytes > 0);
});

Deno.test("bad options are refused with a RangeError or TypeError", () => {
  const source = new FakeSource();
  const base = {
    ttlSeconds: 300,
    cacheSize: 1000,
    ignoreTransientErrors: true,
  };
  for (const ttlSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () =>
        new SecretCache(secretsCacheSource(source), { ...base, ttlSeconds }),
      RangeError,
    );
  }
  for (const cacheSize of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => new SecretCache(secretsCacheSource(source), { ...base, cacheSize }),
      RangeError,
    );
  }
  assert.throws(
    () =>
      new SecretCache(secretsCacheSource(source), {
        ...base,
        ignoreTransientErrors: "yes" as unknown as boolean,
      }),
    TypeError,
  );
  assert.throws(
    () =>
      new SecretCache(secretsCacheSource(source), {
        ...base,
        now: 5 as unknown as () => number,
      }),
    TypeError,
  );
  for (const maxBytes of [-1, Number.NaN, "1" as unknown as number]) {
    assert.throws(
      () => new SecretCache(secretsCacheSource(source), { ...base, maxBytes }),
      RangeError,
    );
  }
});

// Coalescing beyond GetSecretValue misses.

Deno.test("a refreshNow burst shares one failing GetSecretValue: every waiter gets the error, nothing is cached", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  const release = source.hold("getSecretValue");
  source.failWith("getSecretValue", CONNECTION);
  const burst = Array.from(
    { length: 25 },
    () => cache.get({ secretId: "db", refreshNow: true }),
  );
  release();
  for (const outcome of await Promise.allSettled(burst)) {
    assert.equal(outcome.status, "rejected");
    assert.deepEqual(outcome.reason.failure, CONNECTION);
  }
  assert.equal(source.calls.getSecretValue, 1);
  assert.equal(cache.size, 0);
  source.failWith("getSecretValue", undefined);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "miss");
  assert.equal(source.calls.getSecretValue, 2);
});

Deno.test("a shared DescribeSecret error reaches every renewer and is not cached", async () => {
  const { source, cache, advance } = setup({ ignoreTransientErrors: false });
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  const release = source.hold("describeSecret");
  source.failWith("describeSecret", TIMEOUT);
  const pending = Array.from(
    { length: 20 },
    () => cache.get({ secretId: "db" }),
  );
  release();
  for (const outcome of await Promise.allSettled(pending)) {
    assert.equal(outcome.status, "rejected");
    assert.deepEqual(outcome.reason.failure, TIMEOUT);
  }
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
  source.failWith("describeSecret", undefined);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "renewed");
  assert.equal(source.calls.describeSecret, 2);
});

Deno.test("expired keys of one secret (name, stage, version) share one DescribeSecret", async () => {
  const { source, cache, advance } = setup();
  const versionId = source.put("db", "one");
  const lookups = [
    { secretId: "db" },
    { secretId: "db", versionStage: "AWSCURRENT" },
    { secretId: "db", versionId },
  ];
  for (const lookup of lookups) await cache.get(lookup);
  advance(TTL_MS);
  const release = source.hold("describeSecret");
  const pending = lookups.map((lookup) => cache.get(lookup));
  assert.equal(cache.stats().inFlight, 3);
  release();
  const results = await Promise.all(pending);
  assert.ok(results.every(({ outcome }) => outcome === "renewed"));
  assert.deepEqual(source.calls, { getSecretValue: 3, describeSecret: 1 });
});

// The byte bound.

/** The bytes one entry with a one-letter name and `size` ASCII characters weighs. */
async function entryBytes(size: number): Promise<number> {
  const { source, cache } = setup();
  source.put("p", "x".repeat(size));
  await cache.get({ secretId: "p" });
  return cache.stats().bytes;
}

Deno.test("the byte bound evicts least recently used entries until the total fits", async () => {
  const perEntry = await entryBytes(1_000);
  const { source, cache } = setup({ maxBytes: perEntry * 3 });
  for (const name of ["a", "b", "c", "d"]) {
    source.put(name, name.repeat(1_000).slice(0, 1_000));
  }
  await cache.get({ secretId: "a" });
  await cache.get({ secretId: "b" });
  await cache.get({ secretId: "c" });
  assert.equal(cache.stats().bytes, perEntry * 3);
  assert.equal((await cache.get({ secretId: "a" })).outcome, "hit");
  await cache.get({ secretId: "d" });
  assert.equal(cache.size, 3);
  assert.equal(cache.stats().bytes, perEntry * 3);
  assert.equal(cache.stats().evictions, 1);
  assert.equal((await cache.get({ secretId: "a" })).outcome, "hit");
  assert.equal((await cache.get({ secretId: "b" })).outcome, "miss");
});

Deno.test("a value bigger than the byte bound is served but not cached, and drops the key's older value", async () => {
  const { source, cache } = setup({ maxBytes: 2_000 });
  source.put("db", "small");
  await cache.get({ secretId: "db" });
  assert.equal(cache.size, 1);
  source.put("db", "L".repeat(5_000));
  const big = await cache.get({ secretId: "db", refreshNow: true });
  assert.equal(secretString(big).length, 5_000);
  assert.equal(cache.size, 0);
  assert.equal(cache.stats().bytes, 0);
  const again = await cache.get({ secretId: "db" });
  assert.equal(again.outcome, "miss");
  assert.equal(secretString(again).length, 5_000);
  assert.equal(source.calls.getSecretValue, 3);
  assert.equal(cache.stats().oversized, 2);
});

Deno.test("bytes are counted as UTF-8: a two-byte character weighs two", async () => {
  const { source, cache } = setup();
  source.put("s1", "e".repeat(1_000));
  source.put("s2", "é".repeat(1_000));
  await cache.get({ secretId: "s1" });
  const asciiBytes = cache.stats().bytes;
  await cache.get({ secretId: "s2" });
  // Same name and version id lengths: only the value's encoding differs.
  assert.equal(cache.stats().bytes - asciiBytes, asciiBytes + 1_000);
});

Deno.test("the entry and byte bounds hold under churn of 5k keys with values of mixed sizes", async () => {
  const maxBytes = 64 * 1024;
  const { source, cache } = setup({ cacheSize: 50, maxBytes });
  let seed = 1;
  const nextSize = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return 1 + (seed % 8_000);
  };
  for (let i = 0; i < 5_000; i++) {
    source.put(`secret-${i}`, "v".repeat(nextSize()));
    await cache.get({ secretId: `secret-${i}` });
    const stats = cache.stats();
    assert.ok(stats.entries <= 50);
    assert.ok(stats.bytes <= maxBytes);
    // The newest value always fits on its own, so it is always kept.
    assert.equal((await cache.get({ secretId: `secret-${i}` })).outcome, "hit");
  }
  const stats = cache.stats();
  assert.ok(stats.evictions >= 4_950);
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.oversized, 0);
});

Deno.test("with refresh-ahead on, a throttling back-off schedules no background renewal inside it", async () => {
  const delays: number[] = [];
  const { source, cache, advance } = setup({
    random: () => 0,
    refreshAhead: {
      scheduler: {
        setTimer: (_callback, delayMs) => {
          delays.push(delayMs);
          return delays.length;
        },
        clearTimer: () => {},
      },
    },
  });
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  await cache.get({ secretId: "db" }); // the first hit schedules one renewal
  assert.equal(delays.length, 1);
  source.failWith("describeSecret", THROTTLED);
  advance(TTL_MS);
  assert.equal((await cache.get({ secretId: "db" })).outcome, "stale");
  assert.equal((await cache.get({ secretId: "db" })).outcome, "hit");
  assert.equal(delays.length, 1, "no timer in the back-off window");
  assert.equal(source.calls.describeSecret, 1);
});

Deno.test("a throttled renewal does not bring back an entry a refreshNow dropped meanwhile", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get({ secretId: "db" });
  advance(TTL_MS);
  source.failWith("describeSecret", THROTTLED);
  const release = source.hold("describeSecret");
  const renewal = cache.get({ secretId: "db" });
  source.failWith("getSecretValue", NOT_FOUND);
  await rejectsWith(cache.get({ secretId: "db", refreshNow: true }), NOT_FOUND);
  assert.equal(cache.size, 0);
  release();
  assert.equal((await renewal).outcome, "stale");
  assert.equal(cache.size, 0, "the dropped entry stays dropped");
});
