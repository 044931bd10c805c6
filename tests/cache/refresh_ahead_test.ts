import assert from "node:assert/strict";
import { type CacheLookup, SecretCache } from "../../src/cache/cache.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import type { RefreshAheadOptions } from "../../src/cache/cache_options.ts";
import { UpstreamError, type UpstreamFailure } from "../../src/errors.ts";
import {
  refreshPointMs,
  RefreshTimers,
  SYSTEM_SCHEDULER,
} from "../../src/cache/refresh_ahead.ts";
import type { SecretRequest } from "../../src/cache/secret_value.ts";
import { FakeSource, NOT_FOUND } from "../support/fake_source.ts";
import { ManualClock, settle } from "../support/manual_clock.ts";

const TTL_SECONDS = 300;
const TTL_MS = TTL_SECONDS * 1000;
const TIMEOUT: UpstreamFailure = { kind: "timeout" };
const DB: CacheLookup<SecretRequest> = { secretId: "db" };

/** A cache with refresh-ahead on a manual clock; jitter fixed by `random`. */
function setup(
  options: Partial<RefreshAheadOptions> & { ignoreTransientErrors?: boolean } =
    {},
) {
  const source = new FakeSource();
  const clock = new ManualClock();
  const reported: [UpstreamError, SecretRequest][] = [];
  const { ignoreTransientErrors = true, ...refreshAhead } = options;
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: TTL_SECONDS,
    cacheSize: 1000,
    ignoreTransientErrors,
    now: clock.now,
    refreshAhead: {
      scheduler: clock,
      random: () => 0.5,
      onError: (error, request) => reported.push([error, request]),
      ...refreshAhead,
    },
  });
  return { source, clock, cache, reported };
}

/** A deterministic stand-in for Math.random (a linear congruential generator). */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

function secretString(body: string): string {
  return JSON.parse(body).SecretString;
}

// refreshPointMs

Deno.test("the renewal point lies from percent% of the TTL up to halfway to expiry", () => {
  const at = (random: number, percent = 80) =>
    refreshPointMs(1_000, 300_000, { percent, random: () => random });
  assert.equal(at(0), 1_000 + 240_000);
  assert.equal(at(0.5), 1_000 + 255_000);
  assert.ok(at(0.999_999) < 1_000 + 270_000);
  assert.ok(at(0.999_999) > 1_000 + 269_999);
  assert.equal(at(0, 50), 1_000 + 150_000);
  assert.equal(at(0.5, 50), 1_000 + 187_500);
  assert.equal(at(0, 95), 1_000 + 285_000);
});

Deno.test("a random source outside [0, 1) is clamped into the jitter window", () => {
  const at = (random: number) =>
    refreshPointMs(0, 1_000, { percent: 80, random: () => random });
  assert.equal(at(-1), 800);
  assert.equal(at(Number.NaN), 800);
  assert.equal(at(1), 900);
  assert.equal(at(7), 900);
});

Deno.test("jittered renewal points spread over the whole window and never leave it", () => {
  const random = seededRandom(42);
  const points = Array.from(
    { length: 10_000 },
    () => refreshPointMs(0, 300_000, { percent: 80, random }),
  );
  for (const point of points) assert.ok(point >= 240_000 && point < 270_000);
  assert.ok(Math.min(...points) < 241_000);
  assert.ok(Math.max(...points) > 269_000);
  const buckets = new Set(points.map((point) => Math.floor(point / 3_000)));
  assert.equal(buckets.size, 10, "every tenth of the window is used");
});

// RefreshTimers

Deno.test("a scheduled timer fires once at its time and is then forgotten", async () => {
  const clock = new ManualClock();
  const timers = new RefreshTimers(clock);
  let fired = 0;
  timers.schedule("a", 100, () => fired++);
  assert.ok(timers.has("a"));
  await clock.advance(99);
  assert.equal(fired, 0);
  await clock.advance(1);
  assert.equal(fired, 1);
  assert.equal(timers.has("a"), false);
  await clock.advance(1_000);
  assert.equal(fired, 1);
});

Deno.test("scheduling a key again replaces its timer; cancel and a negative delay work", async () => {
  const clock = new ManualClock();
  const timers = new RefreshTimers(clock);
  const fired: string[] = [];
  timers.schedule("a", 100, () => fired.push("first"));
  timers.schedule("a", 200, () => fired.push("second"));
  timers.schedule("b", 50, () => fired.push("b"));
  timers.cancel("b");
  timers.schedule("c", -5, () => fired.push("c"));
  assert.equal(timers.size, 2);
  assert.equal(clock.pendingTimers, 2);
  await clock.advance(300);
  assert.deepEqual(fired, ["c", "second"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("close cancels every pending timer and refuses new ones", async () => {
  const clock = new ManualClock();
  const timers = new RefreshTimers(clock);
  let fired = 0;
  timers.schedule("a", 10, () => fired++);
  timers.schedule("b", 20, () => fired++);
  timers.close();
  assert.ok(timers.isClosed);
  timers.schedule("c", 10, () => fired++);
  assert.equal(timers.size, 0);
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(100);
  assert.equal(fired, 0);
});

Deno.test("the system scheduler fires timers and clears them", async () => {
  const fired: string[] = [];
  const done = Promise.withResolvers<void>();
  // The scheduler's timers are unref'd: a ref'd one keeps the test's loop alive.
  const keepAlive = setTimeout(() => {}, 60_000);
  const cleared = SYSTEM_SCHEDULER.setTimer(() => fired.push("cleared"), 0);
  SYSTEM_SCHEDULER.clearTimer(cleared);
  SYSTEM_SCHEDULER.setTimer(() => {
    fired.push("fired");
    done.resolve();
  }, 0);
  await done.promise;
  await settle();
  clearTimeout(keepAlive);
  assert.deepEqual(fired, ["fired"]);
});

Deno.test("a pending system timer does not keep the process alive", async () => {
  const url = new URL("../../src/cache/refresh_ahead.ts", import.meta.url).href;
  const script = `import { SYSTEM_SCHEDULER } from ${JSON.stringify(url)};\n` +
    `SYSTEM_SCHEDULER.setTimer(() => console.log("fired"), 3_600_000);\n`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-prompt", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // If the timer kept the process alive this would wait for an hour; the kill
  // turns that into a failure instead of a hang.
  const guard = setTimeout(() => child.kill(), 10_000);
  const { code, stdout } = await child.output();
  clearTimeout(guard);
  assert.equal(code, 0);
  assert.equal(new TextDecoder().decode(stdout), "");
});

// The cache with refresh-ahead

Deno.test("an entry read during its TTL is renewed in the background, so the request after the TTL makes no upstream call", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  assert.equal((await cache.get(DB)).outcome, "miss");
  assert.equal((await cache.get(DB)).outcome, "hit");
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(TTL_MS * 0.85 - 1);
  assert.equal(source.calls.describeSecret, 0);
  await clock.advance(1);
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });

  await clock.advance(TTL_MS * 0.15 + 1);
  const after = await cache.get(DB);
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after.body), "one");
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
  assert.equal(cache.stats().refreshAheads, 1);
});

Deno.test("a rotated secret is fetched again in the background: DescribeSecret, then GetSecretValue", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  source.put("db", "two");
  await clock.advance(TTL_MS);
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 1 });
  const after = await cache.get(DB);
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after.body), "two");
  assert.deepEqual(source.calls, { getSecretValue: 2, describeSecret: 1 });
});

Deno.test("an entry nobody reads after it was stored is left to expire", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(TTL_MS * 3);
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 0 });
  assert.equal((await cache.get(DB)).outcome, "renewed");
});

Deno.test("an entry read in one TTL window but not the next is renewed once, then left to expire", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  await cache.get(DB);
  await clock.advance(TTL_MS);
  assert.equal(source.calls.describeSecret, 1);
  await clock.advance(TTL_MS * 3);
  assert.equal(source.calls.describeSecret, 1);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(cache.stats().refreshAheads, 1);
});

Deno.test("the jitter draw places the renewal: from percent% of the TTL (draw 0) to just before 90% (draw near 1)", async () => {
  const cases = [
    { percent: 80, random: 0, quietUntilMs: TTL_MS * 0.8 - 1 },
    { percent: 50, random: 0, quietUntilMs: TTL_MS * 0.5 - 1 },
    { percent: 80, random: 0.999_999, quietUntilMs: TTL_MS * 0.9 - 1 },
  ];
  for (const { percent, random, quietUntilMs } of cases) {
    const { source, clock, cache } = setup({ percent, random: () => random });
    source.put("db", "one");
    await cache.get(DB);
    await cache.get(DB);
    await clock.advance(quietUntilMs);
    assert.equal(source.calls.describeSecret, 0, `${percent}% ${random}`);
    await clock.advance(1);
    assert.equal(source.calls.describeSecret, 1, `${percent}% ${random}`);
  }
});

Deno.test("a steady reader across three TTL expiries is always answered from the cache", async () => {
  const { source, clock, cache } = setup({ random: seededRandom(7) });
  source.put("db", "one");
  assert.equal((await cache.get(DB)).outcome, "miss");
  const outcomes = new Set<string>();
  for (let second = 0; second < TTL_SECONDS * 3.5; second++) {
    await clock.advance(1_000);
    outcomes.add((await cache.get(DB)).outcome);
  }
  assert.deepEqual([...outcomes], ["hit"]);
  assert.equal(source.calls.getSecretValue, 1);
  // One renewal per window, each between 80% and 90% of the TTL.
  assert.ok(source.calls.describeSecret >= 3);
  assert.ok(source.calls.describeSecret <= 5);
});

Deno.test("a first read after the renewal point renews at once, still before expiry", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await clock.advance(TTL_MS * 0.95);
  assert.equal((await cache.get(DB)).outcome, "hit");
  await settle();
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(0);
  assert.equal(source.calls.describeSecret, 1);
  await clock.advance(TTL_MS * 0.05 + 1);
  assert.equal((await cache.get(DB)).outcome, "hit");
  assert.equal(source.calls.describeSecret, 1);
});

Deno.test("a request after the TTL never waits on a background renewal still in flight, nor calls again", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  const release = source.hold("describeSecret");
  await clock.advance(TTL_MS * 0.85);
  assert.equal(source.calls.describeSecret, 1);
  await clock.advance(TTL_MS * 0.15);
  // Answered while DescribeSecret is still held: none of them waits on it.
  const results = await Promise.all(
    Array.from({ length: 5 }, () => cache.get(DB)),
  );
  assert.ok(results.every(({ outcome }) => outcome === "renewing"));
  assert.ok(results.every(({ body }) => secretString(body) === "one"));
  assert.equal(cache.peek(DB)?.body, results[0].body);
  assert.equal(cache.stats().renewingServes, 6);
  release();
  await settle();
  assert.equal((await cache.get(DB)).outcome, "hit");
  assert.deepEqual(source.calls, { getSecretValue: 1, describeSecret: 1 });
});

Deno.test("a refreshNow during a background renewal still fetches and waits for its own answer", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  const release = source.hold("describeSecret");
  await clock.advance(TTL_MS);
  source.put("db", "two");
  const refreshed = await cache.get({ ...DB, refreshNow: true });
  assert.equal(refreshed.outcome, "refresh");
  assert.equal(secretString(refreshed.body), "two");
  release();
  await settle();
  const after = await cache.get(DB);
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after.body), "two");
});

Deno.test("a transient background failure keeps the entry; the request after the TTL checks again and serves it stale", async () => {
  const { source, clock, cache, reported } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  source.failWith("describeSecret", TIMEOUT);
  await clock.advance(TTL_MS * 0.85);
  assert.equal(source.calls.describeSecret, 1);
  assert.equal(reported.length, 1);
  assert.deepEqual(reported[0][0].failure, TIMEOUT);
  assert.deepEqual(reported[0][1], { secretId: "db" });
  assert.equal(cache.stats().refreshAheadFailures, 1);

  // Not restarted: still served until the original expiry, then checked.
  await clock.advance(TTL_MS * 0.15 - 1);
  assert.equal((await cache.get(DB)).outcome, "hit");
  await clock.advance(1);
  const stale = await cache.get(DB);
  assert.equal(stale.outcome, "stale");
  assert.equal(secretString(stale.body), "one");
  assert.equal(source.calls.describeSecret, 2);
});

Deno.test("with ignoreTransientErrors=false a transient background failure keeps the entry until expiry, then propagates", async () => {
  const { source, clock, cache, reported } = setup({
    ignoreTransientErrors: false,
  });
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  source.failWith("describeSecret", TIMEOUT);
  await clock.advance(TTL_MS * 0.85);
  assert.equal(reported.length, 1);
  assert.equal((await cache.get(DB)).outcome, "hit");
  await clock.advance(TTL_MS * 0.15);
  await assert.rejects(cache.get(DB), UpstreamError);
  assert.equal(cache.size, 1);
});

Deno.test("a non-transient background failure drops the entry", async () => {
  const { source, clock, cache, reported } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  source.remove("db");
  await clock.advance(TTL_MS * 0.85);
  assert.equal(cache.size, 0);
  assert.deepEqual(reported.map(([error]) => error.failure), [NOT_FOUND]);
  await assert.rejects(cache.get(DB), (error) => {
    assert.ok(error instanceof UpstreamError);
    assert.deepEqual(error.failure, NOT_FOUND);
    return true;
  });
});

Deno.test("a background failure with no reporter, or a reporter that throws, is never an unhandled rejection", async () => {
  const throwing = () => {
    throw new Error("logger down");
  };
  for (const onError of [undefined, throwing]) {
    for (const fail of ["transient", "not found"] as const) {
      const { source, clock, cache } = setup({ onError });
      source.put("db", "one");
      await cache.get(DB);
      await cache.get(DB);
      if (fail === "transient") source.failWith("describeSecret", TIMEOUT);
      else source.remove("db");
      // An unhandled rejection here would fail this test.
      await clock.advance(TTL_MS);
      await settle();
      assert.equal(cache.stats().refreshAheadFailures, 1);
      assert.equal(cache.size, fail === "transient" ? 1 : 0);
    }
  }
});

Deno.test("refreshNow during a background renewal stores its value and the renewal does not overwrite it", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  await cache.get(DB);
  await cache.get(DB);
  const release = source.hold("describeSecret");
  await clock.advance(TTL_MS * 0.85);
  source.put("db", "two");
  const refreshed = await cache.get({ secretId: "db", refreshNow: true });
  assert.equal(secretString(refreshed.body), "two");
  source.put("db", "three");
  release();
  await settle();
  const after = await cache.get(DB);
  assert.equal(after.outcome, "hit");
  assert.equal(secretString(after.body), "two");
});

Deno.test("close cancels pending renewals and schedules none afterwards; lookups still work", async () => {
  const { source, clock, cache } = setup();
  source.put("db", "one");
  source.put("other", "x");
  await cache.get(DB);
  await cache.get(DB);
  assert.equal(clock.pendingTimers, 1);
  cache.close();
  assert.equal(clock.pendingTimers, 0);
  await cache.get({ secretId: "other" });
  assert.equal((await cache.get({ secretId: "other" })).outcome, "hit");
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(TTL_MS * 2);
  assert.equal(source.calls.describeSecret, 0);
});

Deno.test("evicted and dropped entries cancel their timers: no timer leak under churn", async () => {
  const source = new FakeSource();
  const clock = new ManualClock();
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: TTL_SECONDS,
    cacheSize: 10,
    ignoreTransientErrors: true,
    now: clock.now,
    refreshAhead: { scheduler: clock },
  });
  for (let i = 0; i < 2_000; i++) {
    source.put(`secret-${i}`, `value-${i}`);
    await cache.get({ secretId: `secret-${i}` });
    await cache.get({ secretId: `secret-${i}` });
    assert.ok(clock.pendingTimers <= 10);
  }
  assert.equal(clock.pendingTimers, 10);
  source.remove("secret-1999");
  await assert.rejects(
    cache.get({ secretId: "secret-1999", refreshNow: true }),
  );
  assert.equal(clock.pendingTimers, 9);
  await clock.advance(TTL_MS);
  assert.equal(source.calls.describeSecret, 9);
});

Deno.test("refresh-ahead options are validated", () => {
  const source = new FakeSource();
  const base = { ttlSeconds: 300, cacheSize: 10, ignoreTransientErrors: true };
  for (const percent of [-1, 100, Number.NaN]) {
    assert.throws(
      () =>
        new SecretCache(secretsCacheSource(source), {
          ...base,
          refreshAhead: { percent },
        }),
      RangeError,
    );
  }
  const notFunctions = [
    { random: 0.5 },
    { onError: "log" },
    { scheduler: { setTimer: () => 1 } },
  ] as unknown as RefreshAheadOptions[];
  for (const refreshAhead of notFunctions) {
    assert.throws(
      () =>
        new SecretCache(secretsCacheSource(source), { ...base, refreshAhead }),
      TypeError,
    );
  }
});
