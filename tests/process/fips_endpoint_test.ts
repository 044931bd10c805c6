/**
 * use_fips_endpoint: the SDK's FIPS endpoints, named in the start-up log.
 * The SDK refuses FIPS together with a configured endpoint URL
 * (`AWS_ENDPOINT_URL_*`), so the agent stops at start with what to change
 * rather than fail every call or quietly leave FIPS.
 */

import assert from "node:assert/strict";
import {
  agentLines,
  runAgentToExit,
  startAgent,
} from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";

Deno.test("use_fips_endpoint = true sends Secrets Manager calls to the region's FIPS endpoint", async () => {
  await using agent = await startAgent({
    config: 'use_fips_endpoint = true\nregion = "us-gov-west-1"',
  });
  assert.match(
    await agent.logText(),
    /Secrets Manager endpoint: https:\/\/secretsmanager-fips\.us-gov-west-1\.amazonaws\.com\//,
  );
});

Deno.test("without use_fips_endpoint the standard endpoint is used", async () => {
  await using agent = await startAgent({ config: 'region = "eu-west-1"' });
  assert.match(
    await agent.logText(),
    /Secrets Manager endpoint: https:\/\/secretsmanager\.eu-west-1\.amazonaws\.com\//,
  );
});

Deno.test("use_fips_endpoint with a configured endpoint URL stops the agent with what to change", async () => {
  const server = await startSecretsManagerServer();
  try {
    const exit = await runAgentToExit({
      endpoint: server.url,
      config: "use_fips_endpoint = true",
    });
    assert.equal(exit.code, 1);
    assert.deepEqual(agentLines(exit.stderr), [
      `use_fips_endpoint = true can't be combined with a configured endpoint URL (Secrets Manager: ${server.url}): the AWS SDK refuses the pair. Point the endpoint URL at a FIPS endpoint and set use_fips_endpoint = false, or remove the endpoint URL.`,
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("an endpoint URL without use_fips_endpoint is used and named in the log", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("fips/db", "plain-value");
    await using agent = await startAgent({ endpoint: server.url });
    const response = await agent.get("/v1/fips/db");
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).SecretString, "plain-value");
    assert.match(
      await agent.logText(),
      new RegExp(`Secrets Manager endpoint: ${server.url}`),
    );
  } finally {
    await server.close();
  }
});
