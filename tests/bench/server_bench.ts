/**
 * The whole request path without a socket: `createHandler` with the real
 * token check and a warm cache, a `Request` in and the body read out. The
 * log is a no-op, so this is the handler's own cost.
 *
 * @module
 */

import { DEFAULT_CONFIG } from "../../src/config/config.ts";
import { createHandler } from "../../src/http/handler.ts";
import { createTokenCheck } from "../../src/http/token.ts";
import { SECRET_ID, warmCache } from "./_fixtures.ts";

const TOKEN = "bench-token-3b9f7c1e5a2d4f60";
const cache = await warmCache();
globalThis.addEventListener("unload", () => cache.close());
const handler = createHandler({
  pathPrefix: DEFAULT_CONFIG.pathPrefix,
  maxConn: DEFAULT_CONFIG.maxConn,
  isAuthorized: createTokenCheck(TOKEN, DEFAULT_CONFIG.ssrfHeaders),
  secrets: cache,
  log: { info() {}, error() {} },
});
const ORIGIN = "http://127.0.0.1:2773";
const QUERY_URL = `${ORIGIN}/secretsmanager/get?secretId=${
  encodeURIComponent(SECRET_ID)
}`;
const PATH_URL = `${ORIGIN}/v1/${SECRET_ID}`;
const HEADERS = { "X-Aws-Parameters-Secrets-Token": TOKEN };

async function call(url: string, expected: number, token = true) {
  const response = await handler(
    new Request(url, { headers: token ? HEADERS : {} }),
  );
  await response.text();
  if (response.status !== expected) {
    throw new Error(`${url}: ${response.status}, expected ${expected}`);
  }
}

// The first hit of a TTL window schedules its renewal; bench the later ones.
await call(QUERY_URL, 200);

Deno.bench("handler, cache hit, query style", {
  group: "handler",
  baseline: true,
}, async () => {
  await call(QUERY_URL, 200);
});

Deno.bench("handler, cache hit, path style", {
  group: "handler",
}, async () => {
  await call(PATH_URL, 200);
});

Deno.bench("handler, /ping", { group: "handler" }, async () => {
  await call(`${ORIGIN}/ping`, 200, false);
});

Deno.bench("handler, missing token (403)", { group: "handler" }, async () => {
  await call(QUERY_URL, 403, false);
});
