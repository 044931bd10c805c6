/**
 * What the secret cache takes: its options, and their checks.
 *
 * @module
 */

import type { UpstreamError } from "../errors.ts";
import type { Scheduler } from "./refresh_ahead.ts";

/** How the cache behaves; the config's `ttl_seconds`, `cache_size`, `ignore_transient_errors`. */
export interface SecretCacheOptions<R = unknown> {
  /** How long an entry is served without asking Secrets Manager; 0 turns caching off. */
  readonly ttlSeconds: number;
  /** The most entries kept; 0 turns caching off. */
  readonly cacheSize: number;
  /** Serve an expired entry, and restart its TTL, when refreshing it fails transiently. */
  readonly ignoreTransientErrors: boolean;
  /** The most bytes held (UTF-8 bodies and keys), least recently used evicted first; defaults to no bound. */
  readonly maxBytes?: number;
  /** Renew entries being read before they expire; off when undefined. */
  readonly refreshAhead?: RefreshAheadOptions<R>;
  /** The clock in epoch milliseconds; defaults to `Date.now`. Use the same time as `refreshAhead.scheduler`. */
  readonly now?: () => number;
  /**
   * How long after a `refreshNow` fetch for a key started other `refreshNow`
   * requests for that key get the value it fetched instead of fetching
   * again; defaults to {@linkcode DEFAULT_REFRESH_NOW_INTERVAL_MS}, 0 lets
   * every one fetch (still one at a time).
   */
  readonly refreshNowIntervalMs?: number;
  /**
   * Shorten each entry's life by up to 10 % of the TTL, drawn per entry
   * (`fleet_timing.ts`), so agents started together do not renew in step;
   * off by default, so a lifetime is exactly the TTL.
   */
  readonly jitterExpiry?: boolean;
  /** Uniform in [0, 1), for the expiry jitter and the throttling back-off; defaults to `Math.random`. */
  readonly random?: () => number;
}

/**
 * At most one `refreshNow` fetch per key a second: a client asking in a
 * loop cannot spend the account's shared GetSecretValue quota, and a value
 * a second old is as fresh as a rotation can be noticed anyway.
 */
export const DEFAULT_REFRESH_NOW_INTERVAL_MS = 1000;

/** How background renewals are timed and reported; the config's `refresh_ahead_percent`. */
export interface RefreshAheadOptions<R = unknown> {
  /** The earliest renewal point in percent of the TTL, 0 to 99; defaults to 80. */
  readonly percent?: number;
  /** Timers; defaults to the platform's, unref'd. */
  readonly scheduler?: Scheduler;
  /** Uniform in [0, 1), for the jitter; defaults to `Math.random`. */
  readonly random?: () => number;
  /** Told about each failed background renewal (the error is not thrown anywhere else). */
  readonly onError?: (error: UpstreamError, request: R) => void;
}

/** Throws `RangeError`/`TypeError` for the first bad option. */
export function validateCacheOptions<R>(options: SecretCacheOptions<R>): void {
  const { ttlSeconds, cacheSize, ignoreTransientErrors, now, maxBytes } =
    options;
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
  if (options.random !== undefined && typeof options.random !== "function") {
    throw new TypeError("Cache option random must be a function");
  }
  if (
    options.jitterExpiry !== undefined &&
    typeof options.jitterExpiry !== "boolean"
  ) {
    throw new TypeError("Cache option jitterExpiry must be a boolean");
  }
  if (
    maxBytes !== undefined && (typeof maxBytes !== "number" || !(maxBytes >= 0))
  ) {
    throw new RangeError(
      `Cache maxBytes must be a non-negative number, got ${maxBytes}`,
    );
  }
  const { refreshNowIntervalMs } = options;
  if (
    refreshNowIntervalMs !== undefined &&
    (typeof refreshNowIntervalMs !== "number" ||
      !(refreshNowIntervalMs >= 0) || !Number.isFinite(refreshNowIntervalMs))
  ) {
    throw new RangeError(
      `Cache refreshNowIntervalMs must be a non-negative number, got ${refreshNowIntervalMs}`,
    );
  }
  if (options.refreshAhead !== undefined) {
    validateRefreshAhead(options.refreshAhead);
  }
}

function validateRefreshAhead<R>(options: RefreshAheadOptions<R>): void {
  const { percent, scheduler, random, onError } = options;
  if (
    percent !== undefined &&
    (typeof percent !== "number" || !(percent >= 0 && percent < 100))
  ) {
    throw new RangeError(
      `Cache refresh-ahead percent must be from 0 to below 100, got ${percent}`,
    );
  }
  if (
    scheduler !== undefined &&
    (typeof scheduler?.setTimer !== "function" ||
      typeof scheduler?.clearTimer !== "function")
  ) {
    throw new TypeError(
      "Cache option refreshAhead.scheduler must have setTimer and clearTimer",
    );
  }
  for (const [name, value] of [["random", random], ["onError", onError]]) {
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `Cache option refreshAhead.${name} must be a function`,
      );
    }
  }
}
