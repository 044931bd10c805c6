/**
 * What the hot-path benchmarks share: a secret shaped like a real one, and a
 * cache holding it (and 999 others) as the agent's would after warm-up.
 *
 * @module
 */

import type { SecretRequest } from "../../src/cache/secret_value.ts";
import { SecretCache } from "../../src/cache/cache.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import { DEFAULT_CONFIG } from "../../src/config/config.ts";
import { FakeSource } from "../support/fake_source.ts";

/** The secret every hit reads: a database credential, as most secrets are. */
export const SECRET_ID = "prod/orders/db-credentials";

/** The value stored under {@linkcode SECRET_ID}. */
export const SECRET_STRING = JSON.stringify({
  username: "orders_app",
  password: "pJ3#v9Lq!r2Zt8Wm@x5Nc7Ye",
  engine: "postgres",
  host: "orders.cluster-abc123xyz.us-east-1.rds.amazonaws.com",
  port: 5432,
  dbname: "orders",
});

/** How many secrets the warm cache holds: the default `cache_size`. */
export const CACHED_SECRETS = DEFAULT_CONFIG.cacheSize;

/**
 * A cache configured as the agent's defaults (TTL, size, byte bound,
 * refresh-ahead), filled to capacity, {@linkcode SECRET_ID} among them.
 * Call `close()` on it when done to cancel its refresh timers.
 */
export async function warmCache(): Promise<SecretCache<SecretRequest>> {
  const source = new FakeSource();
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: DEFAULT_CONFIG.ttlSeconds,
    cacheSize: DEFAULT_CONFIG.cacheSize,
    ignoreTransientErrors: DEFAULT_CONFIG.ignoreTransientErrors,
    maxBytes: DEFAULT_CONFIG.cacheMaxBytes,
    refreshAhead: { percent: DEFAULT_CONFIG.refreshAheadPercent },
  });
  source.put(SECRET_ID, SECRET_STRING);
  await cache.get({ secretId: SECRET_ID });
  for (let i = 1; i < CACHED_SECRETS; i++) {
    const secretId = `prod/service-${i}/api-key`;
    source.put(secretId, SECRET_STRING);
    await cache.get({ secretId });
  }
  return cache;
}
