/**
 * The cache's counters, for logs and metrics: one count per request outcome,
 * plus errors, coalesced requests, evictions, oversized values and
 * background (refresh-ahead) renewals.
 *
 * @module
 */

/** How a request was answered, for the request log. */
export type CacheOutcome =
  | "hit"
  | "miss"
  | "renewed"
  | "refetched"
  | "stale"
  | "renewing"
  | "refresh"
  | "uncached";

/** Counters since the cache was built, one per request unless noted. */
export interface CacheStats {
  /** Served from a fresh entry. */
  readonly hits: number;
  /** Not cached: fetched with GetSecretValue and stored. */
  readonly misses: number;
  /** Expired, DescribeSecret said still current: TTL restarted. */
  readonly renewals: number;
  /** Expired, no longer current: fetched again and stored. */
  readonly refetches: number;
  /** Expired, refreshing failed transiently: served the old value. */
  readonly staleServes: number;
  /** Expired while a background renewal was in flight: served the value it checks, without waiting. */
  readonly renewingServes: number;
  /** `refreshNow` fetches. */
  readonly refreshes: number;
  /** Requests made with caching off. */
  readonly uncached: number;
  /** Requests that rejected. */
  readonly errors: number;
  /** Requests that shared another request's upstream call (also counted by outcome or error). */
  readonly coalesced: number;
  /** Entries evicted to respect the entry or byte bound. */
  readonly evictions: number;
  /** Values served but not stored because they alone exceed the byte bound. */
  readonly oversized: number;
  /** Background renewals started ahead of expiry (not requests). */
  readonly refreshAheads: number;
  /** Background renewals that failed (the entry then expires as usual, or is dropped). */
  readonly refreshAheadFailures: number;
  /** Renewals throttled after expiry, each served from the cache and retried after a back-off. */
  readonly throttledRenewals: number;
  /** Entries held now. */
  readonly entries: number;
  /** Bytes held now: the response bodies and keys, UTF-8. */
  readonly bytes: number;
  /** Upstream calls in flight now, at most one per key. */
  readonly inFlight: number;
}

/** The current levels that a snapshot reports next to the counters. */
export type CacheGauges = Pick<CacheStats, "entries" | "bytes" | "inFlight">;

type Counters = {
  -readonly [K in Exclude<keyof CacheStats, keyof CacheGauges>]: number;
};

const OUTCOME_COUNTERS: Readonly<Record<CacheOutcome, keyof Counters>> = {
  hit: "hits",
  miss: "misses",
  renewed: "renewals",
  refetched: "refetches",
  stale: "staleServes",
  renewing: "renewingServes",
  refresh: "refreshes",
  uncached: "uncached",
};

/** Mutable counters behind `SecretCache.stats()`. */
export class CacheCounters {
  readonly #counts: Counters = {
    hits: 0,
    misses: 0,
    renewals: 0,
    refetches: 0,
    staleServes: 0,
    renewingServes: 0,
    refreshes: 0,
    uncached: 0,
    errors: 0,
    coalesced: 0,
    evictions: 0,
    oversized: 0,
    refreshAheads: 0,
    refreshAheadFailures: 0,
    throttledRenewals: 0,
  };

  /** Counts a request answered with `outcome`. */
  recordOutcome(outcome: CacheOutcome): void {
    this.#counts[OUTCOME_COUNTERS[outcome]]++;
  }

  /** Counts a request that rejected. */
  recordError(): void {
    this.#counts.errors++;
  }

  /** Counts a request that joined a call already in flight. */
  recordCoalesced(): void {
    this.#counts.coalesced++;
  }

  /** Counts entries evicted by one insert. */
  recordEvictions(count: number): void {
    this.#counts.evictions += count;
  }

  /** Counts a value served but too big to store. */
  recordOversized(): void {
    this.#counts.oversized++;
  }

  /** Counts a background renewal started. */
  recordRefreshAhead(): void {
    this.#counts.refreshAheads++;
  }

  /** Counts a background renewal that failed. */
  recordRefreshAheadFailure(): void {
    this.#counts.refreshAheadFailures++;
  }

  /** Counts a renewal throttled after expiry, answered from the cache. */
  recordThrottledRenewal(): void {
    this.#counts.throttledRenewals++;
  }

  /** A plain snapshot of the counters, with the current levels. */
  snapshot(gauges: CacheGauges): CacheStats {
    return {
      ...this.#counts,
      entries: gauges.entries,
      bytes: gauges.bytes,
      inFlight: gauges.inFlight,
    };
  }
}
