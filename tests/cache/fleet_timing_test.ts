import assert from "node:assert/strict";
import {
  jitteredTtlMs,
  throttleBackoffMs,
} from "../../src/cache/fleet_timing.ts";

Deno.test("the throttling back-off doubles from 1 s, capped by the TTL, drawn in the upper half of each step", () => {
  const low = () => 0;
  const high = () => 1;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) =>
      throttleBackoffMs(n, 300_000, high)
    ),
    [
      1_000,
      2_000,
      4_000,
      8_000,
      16_000,
      32_000,
      64_000,
      128_000,
      256_000,
      300_000,
    ],
  );
  assert.equal(throttleBackoffMs(1, 300_000, low), 500);
  assert.equal(throttleBackoffMs(3, 300_000, () => 0.5), 3_000);
  // Never below 1 s a step, never past the cap, whatever the attempt.
  assert.equal(throttleBackoffMs(1, 0, high), 1_000);
  assert.equal(throttleBackoffMs(10_000, 5_000, high), 5_000);
  assert.equal(throttleBackoffMs(0, 5_000, high), 1_000);
  // A broken random source still gives a delay within the step.
  assert.equal(throttleBackoffMs(2, 300_000, () => Number.NaN), 1_500);
  assert.equal(throttleBackoffMs(2, 300_000, () => 7), 2_000);
});

Deno.test("a jittered TTL is between nine tenths of the TTL and the TTL", () => {
  assert.equal(jitteredTtlMs(300_000, () => 0), 300_000);
  assert.equal(jitteredTtlMs(300_000, () => 1), 270_000);
  assert.equal(jitteredTtlMs(300_000, () => -3), 300_000);
  const draws = Array.from(
    { length: 1_000 },
    () => jitteredTtlMs(1_000, Math.random),
  );
  assert.ok(draws.every((ms) => ms > 900 - 1e-9 && ms <= 1_000));
  // Spread out, not in step: agents that fetched together renew apart.
  assert.ok(new Set(draws.map((ms) => Math.floor(ms / 10))).size >= 8);
});
