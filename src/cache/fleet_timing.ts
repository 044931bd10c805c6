/**
 * Timing that keeps a fleet of agents off the account's shared quota
 * (DescribeSecret and GetSecretValue: 10,000 calls a second per region and
 * account, for every host together): renewals retried with exponential
 * back-off and jitter while Secrets Manager throttles, and entry lifetimes
 * spread so agents started together (a deploy wave) do not expire in step.
 *
 * @module
 */

/** The first retry after a throttled renewal. */
export const THROTTLE_BASE_MS = 1_000;

/**
 * How long a cached value is served before its renewal is tried again, after
 * `attempt` throttled renewals in a row: "equal jitter" over 1 s doubling per
 * attempt, never more than `capMs` (the TTL): between half the step and the
 * step, so agents throttled together spread out but none waits for nothing.
 *
 * @example
 * ```ts
 * throttleBackoffMs(1, 300_000, () => 0); // 500
 * throttleBackoffMs(4, 300_000, () => 0.999); // about 8_000
 * ```
 */
export function throttleBackoffMs(
  attempt: number,
  capMs: number,
  random: () => number,
): number {
  const step = Math.min(
    Math.max(capMs, THROTTLE_BASE_MS),
    THROTTLE_BASE_MS * 2 ** Math.min(Math.max(attempt, 1) - 1, 30),
  );
  return step / 2 + clamp(random()) * (step / 2);
}

/** The share of the TTL an entry's life may be shortened by, at most. */
export const EXPIRY_JITTER = 0.1;

/**
 * An entry's life: the TTL less up to 10 %, drawn per entry, so values
 * fetched at the same moment are not all renewed at the same moment; never
 * more than the TTL, so no value is served longer than configured.
 */
export function jitteredTtlMs(ttlMs: number, random: () => number): number {
  return ttlMs * (1 - EXPIRY_JITTER * clamp(random()));
}

function clamp(draw: number): number {
  return Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1) : 0.5;
}
