/**
 * `refreshNow` coalesced and limited per key: at most one GetSecretValue per
 * key per `refreshNowIntervalMs` (1 s), the requests in between answered
 * with the value just fetched; the clock is moved by hand.
 */

import assert from "node:assert/strict";
import {
  type CacheResult,
  SecretCache,
  type SecretCacheOptions,
} from "../../src/cache/cache.ts";
import { UpstreamError, type UpstreamFailure } from "../../src/errors.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import { FakeSource } from "../support/fake_source.ts";

const TIMEOUT: UpstreamFailure = { kind: "timeout" };
const DB = { secretId: "db" };
const REFRESH = { secretId: "db", refreshNow: true };

/** A cache over a fake source with a clock the test moves by hand. */
function setup(options: Partial<SecretCacheOptions> = {}) {
  const source = new FakeSource();
  const clock = { nowMs: 1_000_000 };
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: 300,
    cacheSize: 1000,
    ignoreTransientErrors: true,
    now: () => clock.nowMs,
    ...options,
  });
  const advance = (ms: number) => {
    clock.nowMs += ms;
  };
  return { source, cache, advance };
}

function secretString(result: CacheResult): string {
  return JSON.parse(result.body).SecretString;
}

Deno.test("refreshNow in a loop makes one GetSecretValue a second per key; the others get the value just fetched", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  source.put("other", "x");
  for (let i = 0; i < 100; i++) {
    const result = await cache.get(REFRESH);
    assert.equal(result.outcome, "refresh");
    assert.equal(secretString(result), "one");
  }
  assert.equal(source.calls.getSecretValue, 1);
  source.put("db", "two");
  advance(999);
  assert.equal(secretString(await cache.get(REFRESH)), "one", "same second");
  assert.equal(source.calls.getSecretValue, 1);
  // Another key has a window of its own.
  await cache.get({ secretId: "other", refreshNow: true });
  assert.equal(source.calls.getSecretValue, 2);
  advance(1);
  assert.equal(secretString(await cache.get(REFRESH)), "two", "next second");
  assert.equal(source.calls.getSecretValue, 3);
  const stats = cache.stats();
  assert.equal(stats.refreshes, 103);
  assert.equal(stats.coalesced, 100);
  assert.equal(stats.errors, 0);
});

Deno.test("the window is measured from the fetch's start: a refreshNow slower than the interval does not open one", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  const release = source.hold("getSecretValue");
  const first = cache.get(REFRESH);
  const joined = cache.get(REFRESH);
  advance(1_500);
  release();
  assert.equal((await first).body, (await joined).body);
  assert.equal(source.calls.getSecretValue, 1, "joined while in flight");
  await cache.get(REFRESH);
  assert.equal(source.calls.getSecretValue, 2);
});

Deno.test("only a refreshNow fetch opens the window: right after a miss, a refreshNow still fetches the rotated value", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  source.put("db", "two");
  const refreshed = await cache.get(REFRESH);
  assert.equal(secretString(refreshed), "two");
  assert.equal(source.calls.getSecretValue, 2);
  // And a plain read in the window is a hit on that value.
  assert.equal((await cache.get(DB)).outcome, "hit");
});

Deno.test("a failed refreshNow opens no window: errors are not cached, the next refreshNow fetches", async () => {
  const { source, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  source.failWith("getSecretValue", TIMEOUT);
  await assert.rejects(cache.get(REFRESH), UpstreamError);
  source.failWith("getSecretValue", undefined);
  source.put("db", "two");
  assert.equal(secretString(await cache.get(REFRESH)), "two");
  assert.equal(source.calls.getSecretValue, 3);
});

Deno.test("a clock stepped backwards closes the window", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  await cache.get(REFRESH);
  advance(-1);
  await cache.get(REFRESH);
  assert.equal(source.calls.getSecretValue, 2);
});

Deno.test("peek answers a refreshNow in the window at once, counted as get counts it", async () => {
  const { source, cache, advance } = setup();
  source.put("db", "one");
  assert.equal(cache.peek(REFRESH), undefined, "nothing fetched yet");
  const fetched = await cache.get(REFRESH);
  const peeked = cache.peek(REFRESH);
  assert.equal(peeked?.body, fetched.body);
  assert.equal(peeked?.outcome, "refresh");
  assert.equal(cache.stats().refreshes, 2);
  advance(1_000);
  assert.equal(cache.peek(REFRESH), undefined, "past the window");
  assert.equal(source.calls.getSecretValue, 1);
});

Deno.test("refreshNowIntervalMs 0 lets every refreshNow fetch, one at a time", async () => {
  const { source, cache } = setup({ refreshNowIntervalMs: 0 });
  source.put("db", "one");
  for (let i = 0; i < 5; i++) await cache.get(REFRESH);
  assert.equal(source.calls.getSecretValue, 5);
});

Deno.test("refreshNowIntervalMs is validated", () => {
  const source = secretsCacheSource(new FakeSource());
  const base = { ttlSeconds: 300, cacheSize: 10, ignoreTransientErrors: true };
  for (const refreshNowIntervalMs of [-1, Number.NaN, Infinity]) {
    assert.throws(
      () => new SecretCache(source, { ...base, refreshNowIntervalMs }),
      RangeError,
    );
  }
});
