/**
 * With `log_to_file = false` the agent logs to stdout and stderr in batches:
 * every line, the last ones included, must be out by the time it exits.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";

Deno.test("log_to_file = false: request lines reach stdout, and the last lines are flushed on SIGTERM", async () => {
  await using server = {
    instance: await startSecretsManagerServer(),
    async [Symbol.asyncDispose]() {
      await this.instance.close();
    },
  };
  server.instance.createSecret("console/db", "console-secret-value");
  await using agent = await startAgent({
    endpoint: server.instance.url,
    config: "log_to_file = false",
  });
  for (let i = 0; i < 3; i++) {
    const response = await agent.get(
      "/secretsmanager/get?secretId=console%2Fdb",
    );
    assert.equal(response.status, 200);
  }
  const missing = await agent.get("/secretsmanager/get?secretId=absent");
  assert.equal(missing.status, 400);
  const exit = await agent.stop("SIGTERM");
  assert.equal(exit.code, 0, exit.stderr);
  const lines = exit.stdout.split("\n");
  assert.equal(
    lines.filter((line) =>
      / INFO GET \/secretsmanager\/get\?secretId=console%2Fdb 200$/.test(line)
    ).length,
    3,
    exit.stdout,
  );
  assert.ok(
    lines.some((line) =>
      / INFO GET \/secretsmanager\/get\?secretId=absent 400$/.test(line)
    ),
    exit.stdout,
  );
  assert.match(exit.stdout, / INFO Agent stopped\n?$/);
  assert.ok(!exit.stdout.includes("console-secret-value"));
  assert.equal(await agent.logText(), "", "nothing written to ./logs");
});
