import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/config.ts";
import { appliedConfig, keysNeedingRestart } from "../../src/config/reload.ts";

Deno.test("only keys outside the live set need a restart, in the contract's order", () => {
  const running = parseConfig("http_port = 2773");
  const next = parseConfig(`
http_port = 2800
max_conn = 10
ssrf_headers = ["X-Other"]
ttl_seconds = 10
log_level = "debug"
metrics = true
`);
  assert.deepEqual(keysNeedingRestart(running, next), [
    "http_port",
    "ttl_seconds",
    "metrics",
  ]);
  assert.deepEqual(keysNeedingRestart(running, running), []);
});

Deno.test("the applied config takes the live keys from the new file and keeps the rest", () => {
  const running = parseConfig("http_port = 2773");
  const next = parseConfig(`
http_port = 2800
max_conn = 10
path_prefix = "/s/"
ssrf_headers = ["X-Other"]
ssrf_env_variables = ["MY_TOKEN"]
log_level = "error"
ttl_seconds = 10
`);
  const applied = appliedConfig(running, next);
  assert.deepEqual(applied, {
    ...running,
    maxConn: 10,
    pathPrefix: "/s/",
    ssrfHeaders: ["X-Other"],
    ssrfEnvVariables: ["MY_TOKEN"],
    logLevel: "ERROR",
  });
  assert.ok(Object.isFrozen(applied));
});

Deno.test("a log level raised from NONE needs a restart and stays NONE", () => {
  const running = parseConfig('log_level = "none"');
  const next = parseConfig('log_level = "info"');
  assert.deepEqual(keysNeedingRestart(running, next), ["log_level"]);
  assert.equal(appliedConfig(running, next).logLevel, "NONE");
  const quiet = parseConfig('log_level = "info"');
  assert.deepEqual(keysNeedingRestart(quiet, running), []);
  assert.equal(appliedConfig(quiet, running).logLevel, "NONE");
});
