import assert from "node:assert/strict";
import { SecretCache } from "../../src/cache/cache.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import { UpstreamError } from "../../src/errors.ts";
import {
  type ListedSecret,
  matchesTagFilter,
  nextRoundMs,
  startTagDiscovery,
  type TagDiscoveryOptions,
  type TagFilter,
} from "../../src/cache/tag_discovery.ts";
import { FakeSource } from "../support/fake_source.ts";

const ROLE = "arn:aws:iam::123456789012:role/reader";

function tagged(name: string, tags: Record<string, string>): ListedSecret {
  return {
    name,
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  };
}

function setup() {
  const source = new FakeSource();
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: 300,
    cacheSize: 1000,
    ignoreTransientErrors: true,
  });
  return { source, cache };
}

/** Waits, a bounded number of turns, until `condition` holds. */
async function eventually(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(condition(), "the condition never held");
}

Deno.test("a tag filter matches its key exactly, and one of its values when it has any", () => {
  const secret = tagged("a", { team: "payments", env: "prod" });
  assert.ok(matchesTagFilter(secret, { key: "team" }));
  assert.ok(
    matchesTagFilter(secret, { key: "team", values: ["x", "payments"] }),
  );
  // ListSecrets matches prefixes; the agent does not.
  assert.ok(!matchesTagFilter(secret, { key: "tea" }));
  assert.ok(!matchesTagFilter(secret, { key: "team", values: ["pay"] }));
  // The value must be the filter key's, not another tag's.
  assert.ok(!matchesTagFilter(secret, { key: "team", values: ["prod"] }));
  assert.ok(
    matchesTagFilter(tagged("b", { team: "" }), { key: "team", values: [""] }),
  );
});

Deno.test("after failed listings the next round comes sooner, doubling up to the period", () => {
  assert.equal(nextRoundMs(300_000, 0), 300_000);
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map((failed) => nextRoundMs(300_000, failed)),
    [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000],
  );
  assert.equal(nextRoundMs(2_000, 1), 2_000);
  assert.equal(nextRoundMs(300_000, 10_000), 300_000);
});

Deno.test("each round lists every filter and fetches the exact matches, with the filter's role", async () => {
  const { source, cache } = setup();
  for (const name of ["pay/db", "pay/api", "ops/db", "both"]) {
    source.put(name, name);
  }
  const listedWith: TagFilter[] = [];
  const catalogue = [
    tagged("pay/db", { team: "payments" }),
    tagged("pay/api", { team: "payments-old" }),
    tagged("ops/db", { team: "ops", env: "prod" }),
    tagged("both", { team: "payments", env: "prod" }),
  ];
  const stop = new AbortController();
  const discovery = startTagDiscovery({
    list: (filter) => {
      listedWith.push(filter);
      return Promise.resolve(catalogue);
    },
    cache,
    filters: [
      { key: "team", values: ["payments"] },
      { key: "env", roleArn: ROLE },
    ],
    periodMs: 60_000,
    maxSecrets: 1000,
    signal: stop.signal,
  });
  assert.equal(discovery.isFirstRoundDone, false);
  await discovery.firstRound;
  assert.equal(discovery.isFirstRoundDone, true);
  stop.abort();
  assert.equal(listedWith.length, 2);
  assert.deepEqual(source.requests, [
    { secretId: "pay/db" },
    { secretId: "both" },
    { secretId: "ops/db", roleArn: ROLE },
    { secretId: "both", roleArn: ROLE },
  ]);
  assert.equal(
    (await cache.get({ secretId: "both", roleArn: ROLE })).outcome,
    "hit",
  );
  assert.equal((await cache.get({ secretId: "pay/api" })).outcome, "miss");
});

Deno.test("a failed listing is reported, the other filters still run, and it is retried", async () => {
  const { source, cache } = setup();
  source.put("late", "1");
  source.put("other", "2");
  let attempts = 0;
  const outcomes: string[] = [];
  const stop = new AbortController();
  const options: TagDiscoveryOptions = {
    list: (filter) => {
      if (filter.key === "flaky" && attempts++ === 0) {
        return Promise.reject(new UpstreamError({ kind: "timeout" }));
      }
      return Promise.resolve([
        tagged("late", { flaky: "x" }),
        tagged("other", { steady: "y" }),
      ]);
    },
    cache,
    filters: [{ key: "flaky" }, { key: "steady" }],
    periodMs: 10,
    maxSecrets: 1000,
    signal: stop.signal,
    onListed: (filter, outcome) =>
      outcomes.push(
        "error" in outcome
          ? `${filter.key}: ${outcome.error.failure.kind}`
          : `${filter.key}: ${outcome.matched}`,
      ),
  };
  const discovery = startTagDiscovery(options);
  await discovery.firstRound;
  assert.deepEqual(outcomes.slice(0, 2), ["flaky: timeout", "steady: 1"]);
  assert.deepEqual(source.requests, [{ secretId: "other" }]);
  await eventually(() => source.requests.length === 2);
  stop.abort();
  assert.deepEqual(source.requests[1], { secretId: "late" });
  assert.equal(outcomes[2], "flaky: 1");
});

Deno.test("a round fetches at most maxSecrets, says so, and stops when aborted", async () => {
  const { source, cache } = setup();
  const catalogue = ["a", "b", "c"].map((name) => {
    source.put(name, name);
    return tagged(name, { team: "t" });
  });
  const found: number[] = [];
  const stop = new AbortController();
  let listings = 0;
  const discovery = startTagDiscovery({
    list: () => {
      listings++;
      return Promise.resolve(catalogue);
    },
    cache,
    filters: [{ key: "team" }],
    periodMs: 5,
    maxSecrets: 2,
    signal: stop.signal,
    onTooMany: (count) => found.push(count),
  });
  await discovery.firstRound;
  assert.deepEqual(found, [3]);
  assert.equal(source.requests.length, 2);
  await eventually(() => listings >= 2);
  stop.abort();
  const after = listings;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(listings, after, "no rounds after the abort");
  // Later rounds found the two entries fresh: hits, no fetch.
  assert.equal(source.requests.length, 2);
});
