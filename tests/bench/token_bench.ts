/**
 * The SSRF token check from `createTokenCheck`: two SHA-256 digests and a
 * constant-time compare per configured header that is present.
 *
 * @module
 */

import { DEFAULT_CONFIG } from "../../src/config/config.ts";
import { createTokenCheck } from "../../src/http/token.ts";

const TOKEN = "bench-token-3b9f7c1e5a2d4f60";
const isAuthorized = createTokenCheck(TOKEN, DEFAULT_CONFIG.ssrfHeaders);
const FIRST_HEADER = new Headers({ "X-Aws-Parameters-Secrets-Token": TOKEN });
const SECOND_HEADER = new Headers({ "X-Vault-Token": TOKEN });
const WRONG_TOKEN = new Headers({
  "X-Aws-Parameters-Secrets-Token": "bench-token-3b9f7c1e5a2d4f61",
});
const NO_TOKEN = new Headers({ "User-Agent": "bench" });

function expect(headers: Headers, expected: boolean): void {
  if (isAuthorized(headers) !== expected) throw new Error("wrong verdict");
}

Deno.bench("token check, right token in the first header", {
  group: "token",
  baseline: true,
}, () => expect(FIRST_HEADER, true));

Deno.bench("token check, right token in the second header", {
  group: "token",
}, () => expect(SECOND_HEADER, true));

Deno.bench("token check, wrong token", {
  group: "token",
}, () => expect(WRONG_TOKEN, false));

Deno.bench("token check, no token header", {
  group: "token",
}, () => expect(NO_TOKEN, false));
