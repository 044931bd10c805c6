/**
 * The warm-up list: secrets fetched into the cache at start-up, in the
 * background and a few at a time, so start-up never waits on Secrets Manager
 * and the first requests for them are hits.
 *
 * @module
 */

import { asUpstreamError, type UpstreamError } from "../errors.ts";

/**
 * A secret to fetch, and the role to read it with: cached under both, so it
 * serves the requests that name the same `roleArn`.
 */
export interface WarmUpEntry {
  readonly secretId: string;
  readonly roleArn?: string;
}

/** What warm-up needs of the cache (`SecretCache` has it). */
export interface WarmUpTarget {
  /** Whether the cache stores anything; when not, warm-up has nothing to do. */
  readonly isCaching: boolean;
  /** Fetches and stores a secret, sharing a call already in flight; rejects with `UpstreamError`. */
  get(lookup: WarmUpEntry): Promise<unknown>;
}

/** An entry as a log line names it. */
export function describeWarmUpEntry(entry: WarmUpEntry): string {
  return entry.roleArn === undefined
    ? entry.secretId
    : `${entry.secretId} (role ${entry.roleArn})`;
}

/** Options of {@linkcode startWarmUp}. */
export interface WarmUpOptions {
  /** The most fetches at once; defaults to 4. */
  readonly concurrency?: number;
  /** Told about each secret that could not be fetched (log it as a warning). */
  readonly onFailure?: (entry: WarmUpEntry, error: UpstreamError) => void;
  /** Stops starting new fetches once aborted (on shutdown). */
  readonly signal?: AbortSignal;
}

/** How a warm-up went. */
export interface WarmUpReport {
  /** Secrets fetched. */
  readonly fetched: number;
  /** The entries that failed, in list order. */
  readonly failed: readonly WarmUpEntry[];
  /** Secrets not tried: caching is off, or the warm-up was aborted. */
  readonly skipped: number;
}

/** A warm-up under way: a flag and a promise for when it is done. */
export interface WarmUp {
  /** Whether every secret was tried (fetched, failed or skipped). */
  readonly isFinished: boolean;
  /** Resolves with the report once finished; never rejects. */
  readonly finished: Promise<WarmUpReport>;
}

/** The default number of warm-up fetches at once. */
export const DEFAULT_WARM_UP_CONCURRENCY = 4;

/**
 * Starts fetching `entries` into `cache` in the background and returns at
 * once. Failures are reported to `onFailure` and in the report, never thrown.
 *
 * @example
 * ```ts ignore
 * const warmUp = startWarmUp(cache, [{ secretId: "prod/db" }], {
 *   onFailure: (entry, error) => log.warn(`${entry.secretId}: ${error.message}`),
 * });
 * await warmUp.finished; // { fetched: 1, failed: [], skipped: 0 }
 * ```
 */
export function startWarmUp(
  cache: WarmUpTarget,
  entries: readonly WarmUpEntry[],
  options: WarmUpOptions = {},
): WarmUp {
  const concurrency = options.concurrency ?? DEFAULT_WARM_UP_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `Warm-up concurrency must be a positive integer, got ${concurrency}`,
    );
  }
  let isFinished = false;
  const finished = run(cache, entries, concurrency, options).then(
    (report) => {
      isFinished = true;
      return report;
    },
  );
  return {
    get isFinished() {
      return isFinished;
    },
    finished,
  };
}

async function run(
  cache: WarmUpTarget,
  entries: readonly WarmUpEntry[],
  concurrency: number,
  options: WarmUpOptions,
): Promise<WarmUpReport> {
  if (!cache.isCaching) {
    return { fetched: 0, failed: [], skipped: entries.length };
  }
  const outcomes: ("fetched" | "failed" | "skipped")[] = entries.map(() =>
    "skipped"
  );
  let next = 0;
  const worker = async () => {
    while (next < entries.length && options.signal?.aborted !== true) {
      const index = next++;
      outcomes[index] = await fetchOne(cache, entries[index], options);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, entries.length) }, worker),
  );
  return {
    fetched: outcomes.filter((outcome) => outcome === "fetched").length,
    failed: entries.filter((_, index) => outcomes[index] === "failed"),
    skipped: outcomes.filter((outcome) => outcome === "skipped").length,
  };
}

async function fetchOne(
  cache: WarmUpTarget,
  entry: WarmUpEntry,
  options: WarmUpOptions,
): Promise<"fetched" | "failed"> {
  try {
    await cache.get(entry);
    return "fetched";
  } catch (error) {
    const failure = asUpstreamError(error, "while warming up");
    try {
      options.onFailure?.(entry, failure);
    } catch {
      // A failing reporter must not stop the warm-up or reject `finished`.
    }
    return "failed";
  }
}
