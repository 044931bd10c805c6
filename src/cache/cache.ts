/**
 * The agent's cache: a bounded LRU of response bodies (by count and by
 * bytes), fresh for a TTL, renewed when it expires (through the source's
 * cheap version check when it has one, DescribeSecret for secrets), or ahead
 * of expiry in the background when it is being read (refresh-ahead), with
 * concurrent requests for one key sharing one upstream call. What it caches
 * comes from a {@linkcode CacheSource}: secrets, or Parameter Store
 * parameters, each in a cache of its own.
 *
 * Choices where the contract is silent:
 * - A non-transient error (ResourceNotFound, AccessDenied, ...) from any
 *   upstream call for a key drops that key's entry, then propagates: the
 *   secret may be gone or forbidden, and a later transient error must not
 *   serve it stale. A transient error that propagates keeps the entry.
 * - Throttling (ours; the original fails the request) says nothing about the
 *   secret, only about the account's shared quota: it never drops an entry.
 *   A renewal throttled after expiry serves the cached value and tries again
 *   after an exponential back-off with jitter (`fleet_timing.ts`), the value
 *   served meanwhile; one throttled ahead of expiry leaves the entry as it
 *   is. A miss, or a refreshNow, that is throttled answers the error.
 * - `refreshNow` bypasses the cache, so its errors always propagate, even
 *   transient ones with an entry present.
 * - `refreshNow` is coalesced and limited per key: while its fetch is in
 *   flight others join it, and for `refreshNowIntervalMs` (1 s) after that
 *   fetch started, others get the value it stored (outcome "refresh",
 *   counted as coalesced) without a call. Only a refreshNow fetch opens
 *   that window (a miss or renewal does not: "I just rotated it, fetch now"
 *   still works after a plain read), and only a successful one (errors are
 *   never cached, so a failed refresh may be retried at once, one call at a
 *   time). With caching off nothing is stored, so nothing is limited.
 * - With caching off (`ttlSeconds` or `cacheSize` 0) every request makes its
 *   own call: nothing is stored and nothing is shared.
 * - Requests that join an in-flight call report that call's outcome.
 * - Concurrent version checks share one call where the source says so
 *   (DescribeSecret, across keys of one secret id: see
 *   `../aws/secrets_cache_source.ts`).
 * - Refresh-ahead: the first hit in an entry's TTL window schedules one
 *   background renewal at a jittered point (see `refreshPointMs`); an entry
 *   nobody reads is left to expire. The renewal is the expired-entry check
 *   run early. A request never waits on it: one arriving after the TTL while
 *   it is still in flight (a slow upstream) gets the value being checked,
 *   outcome "renewing", and makes no call of its own; the check is bounded
 *   by the upstream timeout. A transient failure ahead of expiry leaves the
 *   entry untouched (the request after the TTL checks again, and may serve it
 *   stale then); a non-transient one drops it. Failures go to `onError`,
 *   never unhandled.
 * - A value bigger than `maxBytes` on its own is served but not stored (the
 *   key's older value is dropped with it).
 *
 * @module
 */

import {
  CacheCounters,
  type CacheOutcome,
  type CacheStats,
} from "./cache_stats.ts";
import {
  asUpstreamError,
  isThrottling,
  isTransient,
  UpstreamError,
} from "../errors.ts";
import { jitteredTtlMs, throttleBackoffMs } from "./fleet_timing.ts";
import { LruMap } from "./lru_map.ts";
import { type Flight, SingleFlight } from "./single_flight.ts";
import {
  DEFAULT_REFRESH_NOW_INTERVAL_MS,
  type SecretCacheOptions,
  validateCacheOptions,
} from "./cache_options.ts";
import {
  DEFAULT_REFRESH_AHEAD_PERCENT,
  refreshPointMs,
  RefreshTimers,
} from "./refresh_ahead.ts";

export type { CacheOutcome, CacheStats } from "./cache_stats.ts";
export type {
  RefreshAheadOptions,
  SecretCacheOptions,
} from "./cache_options.ts";

/** A request as the cache takes it. */
export type CacheLookup<R> = R & {
  /** Skip the cache, fetch, and store the new value. */
  readonly refreshNow?: boolean;
};

/** What a source answers for a request: what the cache stores. */
export interface Fetched {
  readonly versionId: string;
  /**
   * The response body, held once as the text that is sent: a `Response` copies
   * a byte body at each construction and a string not at all (the "cached body"
   * group of tests/bench/secret_value_bench.ts).
   */
  readonly body: string;
}

/** Where the cache gets values from; it rejects with `UpstreamError`. */
export interface CacheSource<R> {
  /** The cache key: requests with equal keys share an entry. */
  keyOf(request: R): string;
  /** The value and its version; `request` may carry `refreshNow`, to ignore. */
  fetch(request: R): Promise<Fetched>;
  /**
   * Whether `versionId` is still what `request` names, checked without
   * fetching the value; absent, renewals fetch again.
   */
  isCurrent?(request: R, versionId: string): Promise<boolean>;
}

/** The response body and how the cache produced it. */
export interface CacheResult {
  readonly body: string;
  /** The version the body holds, for the audit line. */
  readonly versionId: string;
  readonly outcome: CacheOutcome;
}

interface Entry<R> extends Fetched {
  /** What to ask the source when renewing. */
  readonly request: R;
  /** The weight against `maxBytes`. */
  readonly bytes: number;
  readonly freshSinceMs: number;
  readonly expiresAtMs: number;
  /** When refresh-ahead renews it, if it is read; Infinity when off. */
  readonly refreshAtMs: number;
  /** Whether a hit has read it (and scheduled its renewal) in this TTL window. */
  isRead: boolean;
  /** When the refreshNow fetch of this value started; -Infinity when no refreshNow fetched it. */
  readonly refreshedAtMs: number;
  /** Renewals throttled in a row: the back-off's attempt; 0 for a stored value. */
  readonly throttledRenewals: number;
}

interface RefreshAhead<R> {
  readonly timers: RefreshTimers;
  readonly percent: number;
  readonly random: () => number;
  readonly onError: ((error: UpstreamError, request: R) => void) | undefined;
}

const encoder = new TextEncoder();

/** The cache, over one source (see `../aws/secrets_cache_source.ts`). */
export class SecretCache<R extends object> {
  readonly #source: CacheSource<R>;
  readonly #entries: LruMap<string, Entry<R>>;
  /** "ahead" is a background renewal: requests never wait on it. */
  readonly #inFlight = new SingleFlight<
    CacheResult,
    "fetch" | "renew" | "ahead"
  >();
  readonly #refreshAhead: RefreshAhead<R> | undefined;
  readonly #ttlMs: number;
  readonly #isEnabled: boolean;
  readonly #ignoreTransientErrors: boolean;
  readonly #now: () => number;
  readonly #refreshNowIntervalMs: number;
  readonly #jitterExpiry: boolean;
  readonly #random: () => number;
  readonly #counters = new CacheCounters();

  /** Builds an empty cache; throws `RangeError`/`TypeError` on bad options. */
  constructor(source: CacheSource<R>, options: SecretCacheOptions<R>) {
    validateCacheOptions(options);
    this.#source = source;
    this.#entries = new LruMap(options.cacheSize, {
      maxWeight: options.maxBytes ?? Number.POSITIVE_INFINITY,
      weigh: (entry) => entry.bytes,
      onEvict: (key) => this.#refreshAhead?.timers.cancel(key),
    });
    const ahead = options.refreshAhead;
    this.#refreshAhead = ahead === undefined ? undefined : {
      timers: new RefreshTimers(ahead.scheduler),
      percent: ahead.percent ?? DEFAULT_REFRESH_AHEAD_PERCENT,
      random: ahead.random ?? Math.random,
      onError: ahead.onError,
    };
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#isEnabled = options.ttlSeconds > 0 && options.cacheSize > 0;
    this.#ignoreTransientErrors = options.ignoreTransientErrors;
    this.#now = options.now ?? Date.now;
    this.#refreshNowIntervalMs = options.refreshNowIntervalMs ??
      DEFAULT_REFRESH_NOW_INTERVAL_MS;
    this.#jitterExpiry = options.jitterExpiry ?? false;
    this.#random = options.random ?? Math.random;
  }

  /** Answers a lookup from the cache or the source; rejects with `UpstreamError`. */
  async get(lookup: CacheLookup<R>): Promise<CacheResult> {
    try {
      const result = await this.#lookup(lookup);
      this.#counters.recordOutcome(result.outcome);
      return result;
    } catch (error) {
      this.#counters.recordError();
      throw error;
    }
  }

  /**
   * What {@linkcode get} would answer without waiting (a fresh entry, one
   * a background renewal is checking, or for `refreshNow` the value a
   * refreshNow fetched within the interval), counted as `get` counts it;
   * `undefined` when only `get` can answer (a miss, an expired entry,
   * another `refreshNow`, caching off).
   */
  peek(lookup: CacheLookup<R>): CacheResult | undefined {
    if (!this.#isEnabled) return undefined;
    const key = this.#source.keyOf(lookup);
    if (lookup.refreshNow === true) {
      if (this.#inFlight.find(key)?.kind === "fetch") return undefined;
      const recent = this.#recentRefresh(key);
      if (recent !== undefined) this.#counters.recordOutcome(recent.outcome);
      return recent;
    }
    const entry = this.#entries.peek(key);
    if (entry === undefined) return undefined;
    const result = this.#answerAtOnce(key, entry);
    if (result !== undefined) this.#counters.recordOutcome(result.outcome);
    return result;
  }

  /** How many entries the cache holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether anything is stored at all (`ttlSeconds` and `cacheSize` above 0). */
  get isCaching(): boolean {
    return this.#isEnabled;
  }

  /** A snapshot of the counters, as plain numbers. */
  stats(): CacheStats {
    return this.#counters.snapshot({
      entries: this.#entries.size,
      bytes: this.#entries.weight,
      inFlight: this.#inFlight.size,
    });
  }

  /**
   * Cancels pending background renewals and schedules no more; lookups still
   * work, and calls in flight finish. Call it on shutdown.
   */
  close(): void {
    this.#refreshAhead?.timers.close();
  }

  #lookup(lookup: CacheLookup<R>): Promise<CacheResult> {
    const request: R = lookup;
    if (!this.#isEnabled) return this.#uncached(request);
    const key = this.#source.keyOf(lookup);
    const flight = this.#inFlight.find(key);
    if (lookup.refreshNow === true) {
      if (flight?.kind === "fetch") return this.#join(flight);
      const recent = this.#recentRefresh(key);
      if (recent !== undefined) return Promise.resolve(recent);
      const startedMs = this.#now();
      return this.#inFlight.start(
        key,
        "fetch",
        () => this.#fetchAndStore(key, request, "refresh", startedMs),
      );
    }
    const entry = this.#entries.peek(key);
    const atOnce = entry && this.#answerAtOnce(key, entry);
    if (atOnce) return Promise.resolve(atOnce);
    if (flight !== undefined) {
      return flight.kind === "fetch" && entry !== undefined
        ? this.#joinOrStale(flight, key, entry)
        : this.#join(flight);
    }
    if (entry === undefined) {
      return this.#inFlight.start(
        key,
        "fetch",
        () => this.#fetchAndStore(key, request, "miss"),
      );
    }
    return this.#inFlight.start(key, "renew", () => this.#renew(key, entry));
  }

  /**
   * For a refreshNow: the value a refreshNow fetch started less than the
   * interval ago stored, shared as if joined; else undefined (fetch).
   */
  #recentRefresh(key: string): CacheResult | undefined {
    const entry = this.#entries.peek(key);
    if (entry === undefined) return undefined;
    const sinceMs = this.#now() - entry.refreshedAtMs;
    // A clock stepped backwards must not stretch the window either.
    if (!(sinceMs >= 0 && sinceMs < this.#refreshNowIntervalMs)) {
      return undefined;
    }
    this.#entries.get(key);
    this.#counters.recordCoalesced();
    return { body: entry.body, versionId: entry.versionId, outcome: "refresh" };
  }

  /** A fresh hit, or the value a background renewal is checking right now. */
  #answerAtOnce(key: string, entry: Entry<R>): CacheResult | undefined {
    if (this.#isFresh(entry)) {
      this.#hit(key, entry);
      return { body: entry.body, versionId: entry.versionId, outcome: "hit" };
    }
    if (this.#inFlight.find(key)?.kind !== "ahead") return undefined;
    this.#entries.get(key);
    return {
      body: entry.body,
      versionId: entry.versionId,
      outcome: "renewing",
    };
  }

  /** Marks the entry most recently used; the window's first hit schedules its renewal. */
  #hit(key: string, entry: Entry<R>): void {
    this.#entries.get(key);
    if (!entry.isRead) this.#noteFirstRead(key, entry);
  }

  /** The first hit in a TTL window schedules the window's one background renewal. */
  #noteFirstRead(key: string, entry: Entry<R>): void {
    entry.isRead = true;
    this.#refreshAhead?.timers.schedule(
      key,
      entry.refreshAtMs - this.#now(),
      () => this.#renewAhead(key, entry),
    );
  }

  #renewAhead(key: string, entry: Entry<R>): void {
    // Replaced, dropped, or already being fetched: nothing left to do early.
    if (this.#entries.peek(key) !== entry || this.#inFlight.find(key)) return;
    this.#counters.recordRefreshAhead();
    const renewal = this.#inFlight.start(
      key,
      "ahead",
      () => this.#renew(key, entry, (error) => this.#reportAhead(entry, error)),
    );
    // Reported by #reportAhead; requests that joined get the rejection themselves.
    renewal.catch(() => {});
  }

  #reportAhead(entry: Entry<R>, error: UpstreamError): void {
    this.#counters.recordRefreshAheadFailure();
    try {
      this.#refreshAhead?.onError?.(error, entry.request);
    } catch {
      // A failing reporter must not turn into an unhandled rejection.
    }
  }

  async #uncached(request: R): Promise<CacheResult> {
    const { body, versionId } = await this.#fetch(request);
    return { body, versionId, outcome: "uncached" };
  }

  #join(flight: Flight<CacheResult, string>): Promise<CacheResult> {
    this.#counters.recordCoalesced();
    return flight.promise;
  }

  /**
   * Joins a refreshNow fetch on behalf of a plain request for an expired
   * entry: the fetch's transient error must not cost that request the stale
   * answer it would have got from its own renewal.
   */
  async #joinOrStale(
    flight: Flight<CacheResult, string>,
    key: string,
    entry: Entry<R>,
  ): Promise<CacheResult> {
    try {
      return await this.#join(flight);
    } catch (error) {
      return this.#serveStale(key, entry, error as UpstreamError);
    }
  }

  /** `refreshedAtMs`: when a refreshNow fetch started, to open its window. */
  async #fetchAndStore(
    key: string,
    request: R,
    outcome: "miss" | "refresh",
    refreshedAtMs = Number.NEGATIVE_INFINITY,
  ): Promise<CacheResult> {
    try {
      const fetched = await this.#fetch(request);
      this.#store(key, request, fetched, refreshedAtMs);
      return { body: fetched.body, versionId: fetched.versionId, outcome };
    } catch (error) {
      throw this.#forgetIfPermanent(key, error as UpstreamError);
    }
  }

  /** The version check (DescribeSecret), then a fetch if the entry is no longer current. */
  async #renew(
    key: string,
    entry: Entry<R>,
    onFailure?: (error: UpstreamError) => void,
  ): Promise<CacheResult> {
    const request = entry.request;
    let isCurrent: boolean;
    try {
      isCurrent = await this.#isCurrent(request, entry.versionId);
    } catch (error) {
      onFailure?.(error as UpstreamError);
      return this.#serveStale(key, entry, error as UpstreamError);
    }
    if (isCurrent) {
      this.#replace(key, entry, entry);
      return {
        body: entry.body,
        versionId: entry.versionId,
        outcome: "renewed",
      };
    }
    let fetched: Fetched;
    try {
      fetched = await this.#fetch(request);
    } catch (error) {
      onFailure?.(error as UpstreamError);
      return this.#serveStale(key, entry, error as UpstreamError);
    }
    this.#replace(key, entry, fetched);
    return {
      body: fetched.body,
      versionId: fetched.versionId,
      outcome: "refetched",
    };
  }

  /**
   * Rides out a transient failure: ahead of expiry the entry stays as it is
   * (the error is thrown for the background caller), after expiry it is
   * served stale with its TTL restarted; anything else rethrows.
   */
  #serveStale(key: string, entry: Entry<R>, error: UpstreamError): CacheResult {
    if (isThrottling(error.failure)) {
      if (this.#isFresh(entry)) throw error;
      return this.#backOff(key, entry);
    }
    if (isTransient(error.failure) && this.#isFresh(entry)) throw error;
    if (this.#ignoreTransientErrors && isTransient(error.failure)) {
      this.#replace(key, entry, entry);
      return { body: entry.body, versionId: entry.versionId, outcome: "stale" };
    }
    throw this.#forgetIfPermanent(key, error);
  }

  #forgetIfPermanent(key: string, error: UpstreamError): UpstreamError {
    if (!isTransient(error.failure) && !isThrottling(error.failure)) {
      this.#forget(key);
    }
    return error;
  }

  /**
   * Serves `entry` through throttling: fresh again for the back-off of its
   * next attempt (no refresh-ahead inside it), then renewed by the next
   * request. A value a refreshNow stored meanwhile wins.
   */
  #backOff(key: string, entry: Entry<R>): CacheResult {
    const current = this.#entries.peek(key);
    if (current !== undefined && current !== entry) {
      return {
        body: current.body,
        versionId: current.versionId,
        outcome: "stale",
      };
    }
    // Dropped meanwhile (a refreshNow found it gone or denied): answered
    // this once, never stored again.
    if (current === undefined) {
      return { body: entry.body, versionId: entry.versionId, outcome: "stale" };
    }
    const attempt = entry.throttledRenewals + 1;
    const nowMs = this.#now();
    this.#refreshAhead?.timers.cancel(key);
    const evicted = this.#entries.set(key, {
      ...entry,
      freshSinceMs: nowMs,
      expiresAtMs: nowMs +
        throttleBackoffMs(attempt, this.#ttlMs, this.#random),
      refreshAtMs: Number.POSITIVE_INFINITY,
      isRead: false,
      throttledRenewals: attempt,
    });
    this.#counters.recordEvictions(evicted);
    this.#counters.recordThrottledRenewal();
    return { body: entry.body, versionId: entry.versionId, outcome: "stale" };
  }

  #forget(key: string): void {
    this.#refreshAhead?.timers.cancel(key);
    this.#entries.delete(key);
  }

  async #fetch(request: R): Promise<Fetched> {
    try {
      return await this.#source.fetch(request);
    } catch (error) {
      throw asUpstreamError(error, "from the secrets source");
    }
  }

  /** The source's version check; without one, nothing is known to be current. */
  async #isCurrent(request: R, versionId: string): Promise<boolean> {
    if (this.#source.isCurrent === undefined) return false;
    try {
      return await this.#source.isCurrent(request, versionId);
    } catch (error) {
      throw asUpstreamError(error, "from the secrets source");
    }
  }

  #isFresh(entry: Entry<R>): boolean {
    const nowMs = this.#now();
    // A clock stepped backwards must not stretch an entry's life.
    return entry.freshSinceMs <= nowMs && nowMs < entry.expiresAtMs;
  }

  /** Starts a new TTL window for `fetched` under `key`, unless it alone exceeds `maxBytes`. */
  #store(
    key: string,
    request: R,
    fetched: Fetched,
    refreshedAtMs: number,
  ): void {
    this.#forget(key);
    const bytes = byteLength(key) + byteLength(fetched.body);
    if (bytes > this.#entries.maxWeight) {
      this.#counters.recordOversized();
      return;
    }
    const nowMs = this.#now();
    const ahead = this.#refreshAhead;
    const lifeMs = this.#jitterExpiry
      ? jitteredTtlMs(this.#ttlMs, this.#random)
      : this.#ttlMs;
    const evicted = this.#entries.set(key, {
      request,
      versionId: fetched.versionId,
      body: fetched.body,
      bytes,
      freshSinceMs: nowMs,
      expiresAtMs: nowMs + lifeMs,
      refreshAtMs: ahead === undefined
        ? Number.POSITIVE_INFINITY
        : Math.min(refreshPointMs(nowMs, this.#ttlMs, ahead), nowMs + lifeMs),
      isRead: false,
      refreshedAtMs,
      throttledRenewals: 0,
    });
    this.#counters.recordEvictions(evicted);
  }

  /** Stores a renewal's answer, unless a refreshNow stored a newer value meanwhile. */
  #replace(key: string, entry: Entry<R>, fetched: Fetched): void {
    const current = this.#entries.peek(key);
    if (current !== undefined && current !== entry) return;
    // The same value again (renewed, stale) keeps its refreshNow window.
    this.#store(
      key,
      entry.request,
      fetched,
      fetched === entry ? entry.refreshedAtMs : Number.NEGATIVE_INFINITY,
    );
  }
}

function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}
