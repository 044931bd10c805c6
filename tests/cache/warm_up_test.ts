import assert from "node:assert/strict";
import { SecretCache } from "../../src/cache/cache.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import { UpstreamError, type UpstreamFailure } from "../../src/errors.ts";
import {
  describeWarmUpEntry,
  startWarmUp,
  type WarmUpEntry,
  type WarmUpTarget,
} from "../../src/cache/warm_up.ts";
import { FakeSource, NOT_FOUND } from "../support/fake_source.ts";

const TIMEOUT: UpstreamFailure = { kind: "timeout" };

/** Warm-up entries without a role. */
function entries(...secretIds: string[]): WarmUpEntry[] {
  return secretIds.map((secretId) => ({ secretId }));
}

function setup(options: { ttlSeconds?: number } = {}) {
  const source = new FakeSource();
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: options.ttlSeconds ?? 300,
    cacheSize: 1000,
    ignoreTransientErrors: true,
    now: () => 1_000_000,
  });
  return { source, cache };
}

Deno.test("warm-up returns at once and fetches in the background; later requests are hits", async () => {
  const { source, cache } = setup();
  source.put("a", "1");
  source.put("b", "2");
  const release = source.hold("getSecretValue");
  const warmUp = startWarmUp(cache, entries("a", "b"));
  // Start-up goes on while Secrets Manager has not answered.
  assert.equal(warmUp.isFinished, false);
  assert.equal(source.calls.getSecretValue, 2);
  release();
  assert.deepEqual(await warmUp.finished, {
    fetched: 2,
    failed: [],
    skipped: 0,
  });
  assert.equal(warmUp.isFinished, true);
  assert.equal((await cache.get({ secretId: "a" })).outcome, "hit");
  assert.equal((await cache.get({ secretId: "b" })).outcome, "hit");
  assert.equal(source.calls.getSecretValue, 2);
});

Deno.test("failures are reported one by one and in the report; the others are still fetched", async () => {
  const { source, cache } = setup();
  source.put("ok", "1");
  const reported: [string, UpstreamFailure][] = [];
  const warmUp = startWarmUp(cache, entries("missing", "ok", "gone"), {
    onFailure: ({ secretId }, error) =>
      reported.push([secretId, error.failure]),
  });
  assert.deepEqual(await warmUp.finished, {
    fetched: 1,
    failed: entries("missing", "gone"),
    skipped: 0,
  });
  assert.deepEqual(reported, [["missing", NOT_FOUND], ["gone", NOT_FOUND]]);
  assert.equal(cache.size, 1);
});

Deno.test("a failing reporter or a target throwing a non-UpstreamError never rejects finished", async () => {
  const target: WarmUpTarget = {
    isCaching: true,
    get: () => {
      throw new TypeError("boom");
    },
  };
  const reported: UpstreamError[] = [];
  const report = await startWarmUp(target, entries("a"), {
    onFailure: (_, error) => reported.push(error),
  }).finished;
  assert.deepEqual(report.failed, entries("a"));
  assert.ok(reported[0] instanceof UpstreamError);
  assert.equal(reported[0].failure.kind, "internal");

  const { source, cache } = setup();
  source.failWith("getSecretValue", TIMEOUT);
  const throwing = await startWarmUp(cache, entries("a", "b"), {
    onFailure: () => {
      throw new Error("logger down");
    },
  }).finished;
  assert.deepEqual(throwing.failed, entries("a", "b"));
});

Deno.test("at most `concurrency` fetches run at once, and every secret is tried", async () => {
  let running = 0;
  let peak = 0;
  const seen: string[] = [];
  const target: WarmUpTarget = {
    isCaching: true,
    get: async ({ secretId }) => {
      running++;
      peak = Math.max(peak, running);
      seen.push(secretId);
      await Promise.resolve();
      running--;
    },
  };
  const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
  const report = await startWarmUp(target, entries(...ids), { concurrency: 3 })
    .finished;
  assert.equal(peak, 3);
  assert.deepEqual(seen, ids);
  assert.equal(report.fetched, 20);
});

Deno.test("an aborted warm-up starts no new fetches and counts the rest as skipped", async () => {
  const { source, cache } = setup();
  for (const name of ["a", "b", "c", "d"]) source.put(name, name);
  const release = source.hold("getSecretValue");
  const stop = new AbortController();
  const warmUp = startWarmUp(cache, entries("a", "b", "c", "d"), {
    concurrency: 1,
    signal: stop.signal,
  });
  stop.abort();
  release();
  assert.deepEqual(await warmUp.finished, {
    fetched: 1,
    failed: [],
    skipped: 3,
  });
  assert.equal(source.calls.getSecretValue, 1);
});

Deno.test("with caching off, warm-up calls nothing and finishes at once", async () => {
  const { source, cache } = setup({ ttlSeconds: 0 });
  source.put("a", "1");
  const report = await startWarmUp(cache, entries("a")).finished;
  assert.deepEqual(report, { fetched: 0, failed: [], skipped: 1 });
  assert.equal(source.calls.getSecretValue, 0);
});

Deno.test("an empty list finishes at once; a bad concurrency is refused", async () => {
  const { cache } = setup();
  assert.deepEqual(await startWarmUp(cache, entries()).finished, {
    fetched: 0,
    failed: [],
    skipped: 0,
  });
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => startWarmUp(cache, entries("a"), { concurrency }),
      RangeError,
    );
  }
});

Deno.test("a warm-up sharing a request's in-flight fetch makes one call", async () => {
  const { source, cache } = setup();
  source.put("a", "1");
  const release = source.hold("getSecretValue");
  const request = cache.get({ secretId: "a" });
  const warmUp = startWarmUp(cache, entries("a"));
  release();
  await request;
  assert.equal((await warmUp.finished).fetched, 1);
  assert.equal(source.calls.getSecretValue, 1);
});

Deno.test("an entry with a role is fetched with that role and serves the requests that name it", async () => {
  const { source, cache } = setup();
  source.put("shared/db", "1");
  const roleArn = "arn:aws:iam::123456789012:role/reader";
  const report = await startWarmUp(cache, [{ secretId: "shared/db", roleArn }])
    .finished;
  assert.equal(report.fetched, 1);
  assert.deepEqual(source.requests, [{ secretId: "shared/db", roleArn }]);
  const withRole = await cache.get({ secretId: "shared/db", roleArn });
  assert.equal(withRole.outcome, "hit");
  // Without the role it is another caller's read: not served from that entry.
  assert.equal((await cache.get({ secretId: "shared/db" })).outcome, "miss");
  assert.equal(
    describeWarmUpEntry({ secretId: "shared/db", roleArn }),
    `shared/db (role ${roleArn})`,
  );
  assert.equal(describeWarmUpEntry({ secretId: "shared/db" }), "shared/db");
});
