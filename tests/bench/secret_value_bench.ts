/**
 * Response building: `toResponseBody`, run once per fetch (the cache keeps
 * the body), for a typical secret, a 4 KB one and a binary one.
 *
 * @module
 */

import {
  type SecretValue,
  toResponseBody,
} from "../../src/cache/secret_value.ts";
import { SECRET_ID, SECRET_STRING } from "./_fixtures.ts";

const TYPICAL: SecretValue = {
  arn:
    `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET_ID}-AbCdEf`,
  name: SECRET_ID,
  versionId: "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
  secretString: SECRET_STRING,
  versionStages: ["AWSCURRENT"],
  createdDateMs: 1_700_000_000_123,
};
const LARGE: SecretValue = { ...TYPICAL, secretString: "x".repeat(4096) };
const BINARY: SecretValue = {
  ...TYPICAL,
  secretString: undefined,
  secretBinary: btoa("\u0000\u00ff".repeat(256)),
};

Deno.bench("toResponseBody typical string secret", {
  group: "response",
  baseline: true,
}, () => {
  toResponseBody(TYPICAL);
});

Deno.bench("toResponseBody 4 KB string secret", { group: "response" }, () => {
  toResponseBody(LARGE);
});

Deno.bench("toResponseBody binary secret", { group: "response" }, () => {
  toResponseBody(BINARY);
});

// Why the cache keeps each body as the text it sends, not its UTF-8 bytes:
// Deno builds a Response over a string without copying it into a stream.
const LARGE_BODY = toResponseBody(LARGE);
const LARGE_BYTES = new TextEncoder().encode(LARGE_BODY);
const JSON_HEADERS = { "content-type": "application/json" };

Deno.bench("Response over a cached 4 KB body kept as text", {
  group: "cached body",
  baseline: true,
}, () => {
  new Response(LARGE_BODY, { headers: JSON_HEADERS });
});

Deno.bench("Response over a cached 4 KB body kept as bytes", {
  group: "cached body",
}, () => {
  new Response(LARGE_BYTES, { headers: JSON_HEADERS });
});
