/**
 * The agent's secret cache: a bounded LRU of response bodies, fresh for a TTL,
 * renewed through DescribeSecret when it expires, with concurrent requests for
 * one key sharing one upstream call.
 *
 * Choices where the contract is silent:
 * - A non-transient error (ResourceNotFound, AccessDenied, throttling, ...)
 *   from any upstream call for a key drops that key's entry, then propagates:
 *   the secret may be gone or forbidden, and a later transient error must not
 *   serve it stale. A transient error that propagates keeps the entry.
 * - `refreshNow` bypasses the cache, so its errors always propagate, even
 *   transient ones with an entry present.
 * - With caching off (`ttlSeconds` or `cacheSize` 0) every request makes its
 *   own call: nothing is stored and nothing is shared.
 * - Requests that join an in-flight call report that call's outcome.
 *
 * @module
 */

import {
  CacheCounters,
  type CacheOutcome,
  type CacheStats,
} from "./cache_stats.ts";
import { isTransient, UpstreamError } from "./errors.ts";
import { LruMap } from "./lru_map.ts";
import {
  type SecretRequest,
  type SecretsSource,
  type SecretValue,
  toResponseBody,
  type VersionStages,
} from "./secret_value.ts";
import { type Flight, SingleFlight } from "./single_flight.ts";
import { isStillCurrent } from "./version_check.ts";

export type { CacheOutcome, CacheStats } from "./cache_stats.ts";

/** How the cache behaves; the config's `ttl_seconds`, `cache_size`, `ignore_transient_errors`. */
export interface SecretCacheOptions {
  /** How long an entry is served without asking Secrets Manager; 0 turns caching off. */
  readonly ttlSeconds: number;
  /** The most entries kept; 0 turns caching off. */
  readonly cacheSize: number;
  /** Serve an expired entry, and restart its TTL, when refreshing it fails transiently. */
  readonly ignoreTransientErrors: boolean;
  /** The clock in epoch milliseconds; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** A secret request as the cache takes it. */
export interface CacheLookup extends SecretRequest {
  /** Skip the cache, fetch with GetSecretValue, and store the new value. */
  readonly refreshNow?: boolean;
}

/** The response body and how the cache produced it. */
export interface CacheResult {
  readonly body: string;
  readonly outcome: CacheOutcome;
}

interface Entry {
  readonly value: SecretValue;
  readonly body: string;
  readonly freshSinceMs: number;
  readonly expiresAtMs: number;
}

interface Fetched {
  readonly value: SecretValue;
  readonly body: string;
}

/** The secret cache; takes the Secrets Manager client (or a fake) as its source. */
export class SecretCache {
  readonly #source: SecretsSource;
  readonly #entries: LruMap<string, Entry>;
  readonly #inFlight = new SingleFlight<CacheResult, "fetch" | "renew">();
  readonly #ttlMs: number;
  readonly #isEnabled: boolean;
  readonly #ignoreTransientErrors: boolean;
  readonly #now: () => number;
  readonly #counters = new CacheCounters();

  /** Builds an empty cache; throws `RangeError`/`TypeError` on bad options. */
  constructor(source: SecretsSource, options: SecretCacheOptions) {
    validateOptions(options);
    this.#source = source;
    this.#entries = new LruMap(options.cacheSize);
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#isEnabled = options.ttlSeconds > 0 && options.cacheSize > 0;
    this.#ignoreTransientErrors = options.ignoreTransientErrors;
    this.#now = options.now ?? Date.now;
  }

  /** Answers a lookup from the cache or the source; rejects with `UpstreamError`. */
  async get(lookup: CacheLookup): Promise<CacheResult> {
    try {
      const result = await this.#lookup(lookup);
      this.#counters.recordOutcome(result.outcome);
      return result;
    } catch (error) {
      this.#counters.recordError();
      throw error;
    }
  }

  /** How many entries the cache holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** A snapshot of the counters, as plain numbers. */
  stats(): CacheStats {
    return this.#counters.snapshot(this.#entries.size, this.#inFlight.size);
  }

  #lookup(lookup: CacheLookup): Promise<CacheResult> {
    const request = toRequest(lookup);
    if (!this.#isEnabled) return this.#uncached(request);
    const key = cacheKey(request);
    const flight = this.#inFlight.find(key);
    if (lookup.refreshNow === true) {
      if (flight?.kind === "fetch") return this.#join(flight);
      return this.#inFlight.start(
        key,
        "fetch",
        () => this.#fetchAndStore(key, request, "refresh"),
      );
    }
    const entry = this.#entries.peek(key);
    if (entry !== undefined && this.#isFresh(entry)) {
      this.#entries.get(key);
      return Promise.resolve({ body: entry.body, outcome: "hit" });
    }
    if (flight !== undefined) return this.#join(flight);
    if (entry === undefined) {
      return this.#inFlight.start(
        key,
        "fetch",
        () => this.#fetchAndStore(key, request, "miss"),
      );
    }
    return this.#inFlight.start(
      key,
      "renew",
      () => this.#renew(key, request, entry),
    );
  }

  async #uncached(request: SecretRequest): Promise<CacheResult> {
    const { body } = await this.#fetch(request);
    return { body, outcome: "uncached" };
  }

  #join(flight: Flight<CacheResult, string>): Promise<CacheResult> {
    this.#counters.recordCoalesced();
    return flight.promise;
  }

  async #fetchAndStore(
    key: string,
    request: SecretRequest,
    outcome: "miss" | "refresh",
  ): Promise<CacheResult> {
    try {
      const fetched = await this.#fetch(request);
      this.#store(key, fetched);
      return { body: fetched.body, outcome };
    } catch (error) {
      throw this.#forgetIfPermanent(key, error as UpstreamError);
    }
  }

  async #renew(
    key: string,
    request: SecretRequest,
    entry: Entry,
  ): Promise<CacheResult> {
    let stages: VersionStages;
    try {
      stages = await this.#describe(request.secretId);
    } catch (error) {
      return this.#serveStale(key, entry, error as UpstreamError);
    }
    if (isStillCurrent(stages, request, entry.value.versionId)) {
      this.#restartTtl(key, entry);
      return { body: entry.body, outcome: "renewed" };
    }
    let fetched: Fetched;
    try {
      fetched = await this.#fetch(request);
    } catch (error) {
      return this.#serveStale(key, entry, error as UpstreamError);
    }
    this.#store(key, fetched);
    return { body: fetched.body, outcome: "refetched" };
  }

  /** Rides out a transient failure with the expired entry, or rethrows. */
  #serveStale(key: string, entry: Entry, error: UpstreamError): CacheResult {
    if (this.#ignoreTransientErrors && isTransient(error.failure)) {
      this.#restartTtl(key, entry);
      return { body: entry.body, outcome: "stale" };
    }
    throw this.#forgetIfPermanent(key, error);
  }

  #forgetIfPermanent(key: string, error: UpstreamError): UpstreamError {
    if (!isTransient(error.failure)) this.#entries.delete(key);
    return error;
  }

  async #fetch(request: SecretRequest): Promise<Fetched> {
    try {
      const value = await this.#source.getSecretValue(request);
      return { value, body: toResponseBody(value) };
    } catch (error) {
      throw asUpstreamError(error);
    }
  }

  async #describe(secretId: string): Promise<VersionStages> {
    try {
      return await this.#source.describeSecret(secretId);
    } catch (error) {
      throw asUpstreamError(error);
    }
  }

  #isFresh(entry: Entry): boolean {
    const nowMs = this.#now();
    // A clock stepped backwards must not stretch an entry's life.
    return entry.freshSinceMs <= nowMs && nowMs < entry.expiresAtMs;
  }

  #store(key: string, fetched: Fetched): void {
    const nowMs = this.#now();
    const evicted = this.#entries.set(key, {
      value: fetched.value,
      body: fetched.body,
      freshSinceMs: nowMs,
      expiresAtMs: nowMs + this.#ttlMs,
    });
    this.#counters.recordEvictions(evicted);
  }

  #restartTtl(key: string, entry: Entry): void {
    const current = this.#entries.peek(key);
    // A refreshNow stored a newer value meanwhile: keep that one.
    if (current !== undefined && current !== entry) return;
    this.#store(key, entry);
  }
}

function validateOptions(options: SecretCacheOptions): void {
  const { ttlSeconds, cacheSize, ignoreTransientErrors, now } = options;
  if (
    typeof ttlSeconds !== "number" || !(ttlSeconds >= 0) ||
    !Number.isFinite(ttlSeconds)
  ) {
    throw new RangeError(
      `Cache TTL must be a non-negative number of seconds, got ${ttlSeconds}`,
    );
  }
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
    throw new RangeError(
      `Cache size must be a non-negative integer, got ${cacheSize}`,
    );
  }
  if (typeof ignoreTransientErrors !== "boolean") {
    throw new TypeError("Cache option ignoreTransientErrors must be a boolean");
  }
  if (now !== undefined && typeof now !== "function") {
    throw new TypeError("Cache option now must be a function");
  }
}

/** Only the request fields, only those set: what GetSecretValue is asked. */
function toRequest(lookup: CacheLookup): SecretRequest {
  const request: { -readonly [K in keyof SecretRequest]: SecretRequest[K] } = {
    secretId: lookup.secretId,
  };
  if (lookup.versionId !== undefined) request.versionId = lookup.versionId;
  if (lookup.versionStage !== undefined) {
    request.versionStage = lookup.versionStage;
  }
  return request;
}

/** The key as requested: unset and empty fields stay distinct. */
function cacheKey(request: SecretRequest): string {
  return JSON.stringify([
    request.secretId,
    request.versionId ?? null,
    request.versionStage ?? null,
  ]);
}

function asUpstreamError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const name = error instanceof Error ? error.name : typeof error;
  return new UpstreamError(
    { kind: "internal", detail: `unexpected ${name} from the secrets source` },
    { cause: error },
  );
}
