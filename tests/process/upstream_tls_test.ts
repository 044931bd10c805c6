/**
 * HTTPS to AWS under the sandbox: the agent reaches Secrets Manager and STS
 * over TLS (here a TLS front for the local server, its CA trusted through
 * `DENO_CERT`) with exactly the `start` permission set, and refuses a
 * certificate it does not trust. The second test guards against the SDK's
 * `node:https` handler, to which Deno's sandbox refuses the root
 * certificates (a `NotCapable` error and a 500, as against real AWS).
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import { withSecretsManagerServer } from "../support/secrets_manager_server.ts";
import { startTlsProxy, TEST_CA_FILE } from "../support/tls_proxy.ts";

Deno.test("over HTTPS with a trusted certificate, credentials are validated and secrets served", () =>
  withSecretsManagerServer(async (server) => {
    server.createSecret("tls/db", "over-tls");
    const proxy = await startTlsProxy(server.port);
    try {
      await using agent = await startAgent({
        env: {
          AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url,
          AWS_ENDPOINT_URL_STS: proxy.url,
          DENO_CERT: TEST_CA_FILE,
        },
      });
      const response = await agent.get("/v1/tls%2Fdb");
      assert.equal(response.status, 200, response.body);
      assert.equal(JSON.parse(response.body).SecretString, "over-tls");
      assert.equal(server.countCalls("GetCallerIdentity"), 1);
      assert.doesNotMatch(await agent.logText(), /NotCapable|sandbox/);
    } finally {
      await proxy.close();
    }
  }));

Deno.test("over HTTPS with a certificate it does not trust, nothing is sent and the answer is 502", () =>
  withSecretsManagerServer(async (server) => {
    server.createSecret("tls/db", "over-tls");
    const proxy = await startTlsProxy(server.port);
    try {
      await using agent = await startAgent({
        config: "validate_credentials = false",
        env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url },
      });
      const response = await agent.get("/v1/tls%2Fdb");
      assert.equal(response.status, 502, response.body);
      assert.equal(JSON.parse(response.body).__type, "ConnectionError");
      assert.equal(server.countCalls("GetSecretValue"), 0);
    } finally {
      await proxy.close();
    }
  }));
