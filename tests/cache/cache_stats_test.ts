import assert from "node:assert/strict";
import { CacheCounters } from "../../src/cache/cache_stats.ts";

Deno.test("each outcome is counted under its own name", () => {
  const counters = new CacheCounters();
  const outcomes = [
    "hit",
    "hit",
    "miss",
    "renewed",
    "refetched",
    "stale",
    "renewing",
    "refresh",
    "uncached",
  ] as const;
  for (const outcome of outcomes) counters.recordOutcome(outcome);
  counters.recordError();
  counters.recordCoalesced();
  counters.recordEvictions(3);
  counters.recordEvictions(0);
  counters.recordOversized();
  counters.recordRefreshAhead();
  counters.recordRefreshAhead();
  counters.recordRefreshAheadFailure();
  counters.recordThrottledRenewal();
  assert.deepEqual(
    counters.snapshot({ entries: 7, bytes: 4_096, inFlight: 2 }),
    {
      hits: 2,
      misses: 1,
      renewals: 1,
      refetches: 1,
      staleServes: 1,
      renewingServes: 1,
      refreshes: 1,
      uncached: 1,
      errors: 1,
      coalesced: 1,
      evictions: 3,
      oversized: 1,
      refreshAheads: 2,
      refreshAheadFailures: 1,
      throttledRenewals: 1,
      entries: 7,
      bytes: 4_096,
      inFlight: 2,
    },
  );
});

Deno.test("a snapshot is a copy: later counts do not change it", () => {
  const counters = new CacheCounters();
  const gauges = { entries: 0, bytes: 0, inFlight: 0 };
  const before = counters.snapshot(gauges);
  counters.recordOutcome("hit");
  assert.equal(before.hits, 0);
  assert.equal(counters.snapshot(gauges).hits, 1);
});
