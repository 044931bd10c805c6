/**
 * The cache's counters, for logs and metrics: one count per request outcome,
 * plus errors, coalesced requests and evictions.
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
  /** `refreshNow` fetches. */
  readonly refreshes: number;
  /** Requests made with caching off. */
  readonly uncached: number;
  /** Requests that rejected. */
  readonly errors: number;
  /** Requests that shared another request's upstream call (also counted by outcome or error). */
  readonly coalesced: number;
  /** Entries evicted to respect the size bound. */
  readonly evictions: number;
  /** Entries held now. */
  readonly entries: number;
  /** Upstream calls in flight now, at most one per key. */
  readonly inFlight: number;
}

type Counters = {
  -readonly [K in Exclude<keyof CacheStats, "entries" | "inFlight">]: number;
};

const OUTCOME_COUNTERS: Readonly<Record<CacheOutcome, keyof Counters>> = {
  hit: "hits",
  miss: "misses",
  renewed: "renewals",
  refetched: "refetches",
  stale: "staleServes",
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
    refreshes: 0,
    uncached: 0,
    errors: 0,
    coalesced: 0,
    evictions: 0,
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

  /** A plain snapshot, with the current entry and in-flight counts. */
  snapshot(entries: number, inFlight: number): CacheStats {
    return { ...this.#counts, entries, inFlight };
  }
}
