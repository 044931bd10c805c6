/**
 * The cache-hit path of `SecretCache.get`: key, fresh check, LRU touch.
 *
 * @module
 */

import { SECRET_ID, warmCache } from "./_fixtures.ts";

const cache = await warmCache();
// The first hit of a TTL window schedules its renewal; bench the later ones.
await cache.get({ secretId: SECRET_ID, versionStage: "AWSCURRENT" });
await cache.get({ secretId: SECRET_ID, versionStage: "AWSCURRENT" });
globalThis.addEventListener("unload", () => cache.close());

Deno.bench("cache hit by name (1000 entries cached)", {
  group: "cache",
  baseline: true,
}, async () => {
  await cache.get({ secretId: SECRET_ID });
});

Deno.bench("cache hit by name and versionStage", {
  group: "cache",
}, async () => {
  await cache.get({ secretId: SECRET_ID, versionStage: "AWSCURRENT" });
});
