/**
 * Warm-up by tag: the secrets whose tags match a filter are found with
 * ListSecrets at start-up and again every period, and each round fetches them
 * through the cache (a fresh entry is a hit, an expired one is renewed), so
 * they stay warm and a secret tagged later is picked up. A failed listing is
 * logged and retried sooner, never fatal.
 *
 * @module
 */

import { asUpstreamError, type UpstreamError } from "../errors.ts";
import { startWarmUp, type WarmUpEntry, type WarmUpTarget } from "./warm_up.ts";
import { jitteredTtlMs } from "./fleet_timing.ts";

/** Secrets tagged `key` (with one of `values`, when given), read with `roleArn` if set. */
export interface TagFilter {
  readonly key: string;
  readonly values?: readonly string[];
  readonly roleArn?: string;
}

/** A ListSecrets entry: the name it is cached under and its tags. */
export interface ListedSecret {
  readonly name: string;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
}

/** Whether `secret` carries the filter's tag exactly (ListSecrets matches prefixes). */
export function matchesTagFilter(
  secret: ListedSecret,
  filter: TagFilter,
): boolean {
  return secret.tags.some((tag) =>
    tag.key === filter.key &&
    (filter.values === undefined || filter.values.includes(tag.value))
  );
}

/** The first retry after a failed listing; it doubles up to the period. */
const FIRST_RETRY_MS = 5_000;

/** Options of {@linkcode startTagDiscovery}. */
export interface TagDiscoveryOptions {
  /** ListSecrets for one filter; rejects with `UpstreamError`. */
  readonly list: (filter: TagFilter) => Promise<readonly ListedSecret[]>;
  readonly cache: WarmUpTarget;
  readonly filters: readonly TagFilter[];
  /** Between rounds. */
  readonly periodMs: number;
  /** The most secrets fetched in a round (the cache holds no more). */
  readonly maxSecrets: number;
  /** Stops the rounds and their timer (on shutdown). */
  readonly signal: AbortSignal;
  /** After each listing: how many secrets matched, or why it failed. */
  readonly onListed?: (
    filter: TagFilter,
    outcome: { readonly matched: number } | { readonly error: UpstreamError },
  ) => void;
  /** Told about each secret that could not be fetched. */
  readonly onFetchFailure?: (entry: WarmUpEntry, error: UpstreamError) => void;
  /** Told when a round found more secrets than `maxSecrets`. */
  readonly onTooMany?: (found: number) => void;
  /** Uniform in [0, 1), to spread the rounds of agents started together; defaults to `Math.random`. */
  readonly random?: () => number;
}

/** Discovery under way: whether its first round is done, and a promise for it. */
export interface TagDiscovery {
  readonly isFirstRoundDone: boolean;
  /** Resolves after the first round, whatever its outcome; never rejects. */
  readonly firstRound: Promise<void>;
}

/** Starts the rounds in the background and returns at once. */
export function startTagDiscovery(options: TagDiscoveryOptions): TagDiscovery {
  let isFirstRoundDone = false;
  const firstRound = Promise.withResolvers<void>();
  firstRound.promise.then(() => isFirstRoundDone = true);
  const loop = async () => {
    let failedRounds = 0;
    while (!options.signal.aborted) {
      const isComplete = await discoveryRound(options);
      firstRound.resolve();
      failedRounds = isComplete ? 0 : failedRounds + 1;
      const waitMs = nextRoundMs(options.periodMs, failedRounds);
      await sleep(
        jitteredTtlMs(waitMs, options.random ?? Math.random),
        options.signal,
      );
    }
    firstRound.resolve();
  };
  loop();
  return {
    get isFirstRoundDone() {
      return isFirstRoundDone;
    },
    firstRound: firstRound.promise,
  };
}

/**
 * The wait before the next round: the period, or after `failedRounds`
 * failed listings in a row 5 s doubling each time, never past the period;
 * each wait is then shortened by up to a tenth, drawn anew.
 */
export function nextRoundMs(periodMs: number, failedRounds: number): number {
  if (failedRounds === 0) return periodMs;
  return Math.min(
    periodMs,
    FIRST_RETRY_MS * 2 ** Math.min(failedRounds - 1, 20),
  );
}

/** One round: every filter listed, the matches fetched; false if a listing failed. */
async function discoveryRound(options: TagDiscoveryOptions): Promise<boolean> {
  let isComplete = true;
  const entries: WarmUpEntry[] = [];
  const seen = new Set<string>();
  for (const filter of options.filters) {
    if (options.signal.aborted) return isComplete;
    let listed: readonly ListedSecret[];
    try {
      listed = await options.list(filter);
    } catch (error) {
      isComplete = false;
      report(() =>
        options.onListed?.(filter, {
          error: asUpstreamError(error, "while listing secrets"),
        })
      );
      continue;
    }
    const matched = listed.filter((secret) => matchesTagFilter(secret, filter));
    report(() => options.onListed?.(filter, { matched: matched.length }));
    for (const { name } of matched) {
      const key = JSON.stringify([name, filter.roleArn]);
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push(
        filter.roleArn === undefined
          ? { secretId: name }
          : { secretId: name, roleArn: filter.roleArn },
      );
    }
  }
  if (entries.length > options.maxSecrets) {
    report(() => options.onTooMany?.(entries.length));
  }
  await startWarmUp(options.cache, entries.slice(0, options.maxSecrets), {
    signal: options.signal,
    onFailure: options.onFetchFailure,
  }).finished;
  return isComplete;
}

/** A failing reporter must not stop discovery. */
function report(fn: () => void): void {
  try {
    fn();
  } catch {
    // Ignored: see above.
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer never outlives it. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
