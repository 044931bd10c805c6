/**
 * A cached secret is held once: the cache keeps each answer as the one
 * response body it sends, not the SDK's parsed answer beside it. Checked by
 * the heap's growth after a garbage collection, which a second copy of each
 * value would double; a size check, never a time.
 */

import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { SecretCache } from "../../src/cache/cache.ts";
import { secretsCacheSource } from "../../src/aws/secrets_cache_source.ts";
import type {
  SecretRequest,
  SecretsSource,
  SecretValue,
} from "../../src/cache/secret_value.ts";

const SECRETS = 400;
const VALUE_BYTES = 16 * 1024;

/** V8's collector, exposed at run time so the test task needs no extra flag. */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}

/** Makes each value when asked and keeps none, so only the cache holds them. */
const source: SecretsSource = {
  getSecretValue(request: SecretRequest): Promise<SecretValue> {
    const name = request.secretId;
    return Promise.resolve({
      arn:
        `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
      name,
      versionId: "00000000-0000-4000-8000-000000000001",
      versionStages: ["AWSCURRENT"],
      // A fresh flat string per call: "x" repeated, then the name.
      secretString: `${"x".repeat(VALUE_BYTES - name.length)}${name}`,
    });
  },
  describeSecret: () => Promise.resolve({}),
};

Deno.test("the cache holds each secret once: the heap grows by about the bodies' size, not twice it", async () => {
  const gc = collector();
  const cache = new SecretCache(secretsCacheSource(source), {
    ttlSeconds: 300,
    cacheSize: SECRETS,
    ignoreTransientErrors: true,
  });
  const ids = Array.from({ length: SECRETS }, (_, i) => `memory/${i}`);
  gc();
  const before = Deno.memoryUsage().heapUsed;
  let bodyBytes = 0;
  for (const secretId of ids) {
    bodyBytes += (await cache.get({ secretId })).body.length;
  }
  gc();
  const growth = Deno.memoryUsage().heapUsed - before;
  assert.equal(cache.stats().entries, SECRETS);
  const ratio = growth / bodyBytes;
  assert.ok(
    ratio > 0.8 && ratio < 1.5,
    `heap grew ${growth} bytes for ${bodyBytes} bytes of bodies (${
      ratio.toFixed(2)
    } x)`,
  );
});
