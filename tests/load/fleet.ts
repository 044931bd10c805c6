/**
 * A simulated fleet: `--agents` caches built as the agent builds its own
 * (one process, loopback only), each holding `--secrets` secrets read
 * steadily, all started at the same instant as a deploy wave starts them,
 * against the local Secrets Manager. Prints the upstream calls a second
 * after the first TTL (the mean, and the peak over windows of a twentieth of
 * the TTL, so the figures hold for any TTL) beside N x S / TTL, for three
 * timings:
 * expiry in step (no jitter, no refresh-ahead), the expiry jitter alone,
 * and the agent's defaults (jitter and refresh-ahead).
 *
 * Usage: deno task fleet [--agents 200] [--secrets 5] [--ttl 4] [--ttls 3]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { SecretCache, type SecretCacheOptions } from "../../src/cache/cache.ts";
import type { SecretRequest } from "../../src/cache/secret_value.ts";
import { createAwsCalls } from "../../src/aws/aws_calls.ts";
import { createSecretsClient } from "../../src/aws/secrets_client.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import {
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";

interface Timing {
  readonly name: string;
  readonly options: Partial<SecretCacheOptions<SecretRequest>>;
}

const TIMINGS: readonly Timing[] = [
  { name: "in step (no jitter, no refresh-ahead)", options: {} },
  { name: "expiry jitter", options: { jitterExpiry: true } },
  {
    name: "agent defaults (jitter, refresh-ahead)",
    options: { jitterExpiry: true, refreshAhead: { percent: 80 } },
  },
];
const READ_EVERY_MS = 100;
const WINDOWS_PER_TTL = 20;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    agents: { type: "string", default: "200" },
    secrets: { type: "string", default: "5" },
    ttl: { type: "string", default: "4" },
    ttls: { type: "string", default: "3" },
  },
});
const agents = positive("agents", values.agents, 2_000);
const secrets = positive("secrets", values.secrets, 50);
const ttlSeconds = positive("ttl", values.ttl, 60);
const ttls = positive("ttls", values.ttls, 10);

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    console.error(`--${name} must be an integer from 1 to ${max}, got ${text}`);
    Deno.exit(2);
  }
  return n;
}

const server = await startSecretsManagerServer();
Deno.env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", server.url);
const ids = Array.from({ length: secrets }, (_, i) => `fleet/${i}`);
for (const id of ids) server.createSecret(id, `value of ${id}`);
const aws = createAwsCalls({
  region: "us-east-1",
  requestTimeoutMs: 5_000,
  credentials: () => Promise.resolve(TEST_CREDENTIALS),
});
const client = createSecretsClient(aws);
const expected = agents * secrets / ttlSeconds;

console.log(
  `${agents} agents x ${secrets} secrets, TTL ${ttlSeconds} s, ${ttls} TTLs each; N x S / TTL = ${
    expected.toFixed(0)
  } calls/s`,
);
console.log(
  "| timing | mean calls/s | / (N x S / TTL) | peak calls/s (TTL/20 window) | / (N x S / TTL) |",
);
console.log("| --- | ---: | ---: | ---: | ---: |");
try {
  for (const timing of TIMINGS) {
    const windows = await runWave(timing);
    // The first TTL is the wave's own misses; the steady state follows it.
    const steady = windows.slice(WINDOWS_PER_TTL);
    const toRate = (calls: number) => calls / (ttlSeconds / WINDOWS_PER_TTL);
    const mean = toRate(steady.reduce((a, b) => a + b, 0) / steady.length);
    const peak = toRate(Math.max(...steady));
    console.log(
      `| ${timing.name} | ${mean.toFixed(0)} | ${
        (mean / expected).toFixed(2)
      } | ${peak.toFixed(0)} | ${(peak / expected).toFixed(2)} |`,
    );
  }
} finally {
  client.destroy();
  await server.close();
}

/** Starts every cache at once, reads steadily for `ttls` TTLs; calls per window. */
async function runWave(timing: Timing): Promise<number[]> {
  const caches = Array.from(
    { length: agents },
    () =>
      new SecretCache(secretsCacheSource(client), {
        ttlSeconds,
        cacheSize: 1000,
        ignoreTransientErrors: true,
        ...timing.options,
      }),
  );
  server.resetCalls();
  const startedMs = Date.now();
  const endMs = startedMs + ttls * ttlSeconds * 1000;
  while (Date.now() < endMs) {
    await Promise.all(
      caches.flatMap((cache) => ids.map((secretId) => cache.get({ secretId }))),
    );
    await new Promise((resolve) => setTimeout(resolve, READ_EVERY_MS));
  }
  for (const cache of caches) cache.close();
  const windowMs = ttlSeconds * 1000 / WINDOWS_PER_TTL;
  const windows = Array.from({ length: ttls * WINDOWS_PER_TTL }, () => 0);
  for (const call of server.calls()) {
    const at = Math.floor((call.time.getTime() - startedMs) / windowMs);
    if (at >= 0 && at < windows.length) windows[at]++;
  }
  return windows;
}
