/**
 * Parameter Store, end to end: `/systemsmanager/parameters/get` through the
 * real SSM client against the local server, in the Lambda extension's
 * answer shape, cached apart from secrets, coalesced, and with AWS errors
 * mapped as for secrets; off unless `parameter_store = true`.
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";
import { withSecretsManagerServer } from "../support/secrets_manager_server.ts";

const PATH = "/systemsmanager/parameters/get";

function parameterOf(body: string) {
  return JSON.parse(body).Parameter;
}

Deno.test("a String parameter is answered in the Lambda extension's shape, then from the cache", async () => {
  await withSecretsManagerServer(async (server) => {
    const { arn } = server.putParameter("/app/db/host", "db.internal");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "parameter_store = true",
    });
    const path = `${PATH}?name=${encodeURIComponent("/app/db/host")}`;
    const first = await agent.get(path);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.headers.get("content-type"), "application/json");
    const body = JSON.parse(first.body);
    assert.deepEqual(Object.keys(body), ["Parameter", "ResultMetadata"]);
    assert.deepEqual(body.ResultMetadata, {});
    assert.deepEqual(Object.keys(body.Parameter), [
      "ARN",
      "DataType",
      "LastModifiedDate",
      "Name",
      "Selector",
      "SourceResult",
      "Type",
      "Value",
      "Version",
    ]);
    assert.equal(body.Parameter.ARN, arn);
    assert.equal(body.Parameter.Name, "/app/db/host");
    assert.equal(body.Parameter.Type, "String");
    assert.equal(body.Parameter.Value, "db.internal");
    assert.equal(body.Parameter.Version, 1);
    assert.equal(body.Parameter.DataType, "text");
    assert.equal(body.Parameter.Selector, null);
    assert.match(body.Parameter.LastModifiedDate, /^\d{4}-\d\d-\d\dT.*Z$/);
    const second = await agent.get(path);
    assert.equal(second.body, first.body);
    assert.equal(server.countCalls("GetParameter"), 1, "the second is a hit");
  });
});

Deno.test("SecureString is ciphertext unless withDecryption=true, each cached on its own", async () => {
  await withSecretsManagerServer(async (server) => {
    server.putParameter("/app/db/password", "s3cr3t-pw", {
      type: "SecureString",
    });
    await using agent = await startAgent({
      endpoint: server.url,
      config: "parameter_store = true",
    });
    const name = encodeURIComponent("/app/db/password");
    const encrypted = parameterOf(
      (await agent.get(`${PATH}?name=${name}`)).body,
    );
    assert.equal(encrypted.Type, "SecureString");
    assert.notEqual(encrypted.Value, "s3cr3t-pw");
    const decrypted = parameterOf(
      (await agent.get(`${PATH}?name=${name}&withDecryption=true`)).body,
    );
    assert.equal(decrypted.Value, "s3cr3t-pw");
    assert.equal(server.countCalls("GetParameter"), 2);
    const log = await agent.logText();
    assert.doesNotMatch(log, /s3cr3t-pw/);
  });
});

Deno.test("StringList, version and label selectors are answered as GetParameter gives them", async () => {
  await withSecretsManagerServer(async (server) => {
    server.putParameter("hosts", "a,b", { type: "StringList" });
    server.putParameter("hosts", "a,b,c", { labels: ["blue"] });
    server.putParameter("hosts", "a,b,c,d");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "parameter_store = true",
    });
    const latest = parameterOf((await agent.get(`${PATH}?name=hosts`)).body);
    assert.equal(latest.Value, "a,b,c,d");
    assert.equal(latest.Type, "StringList");
    assert.equal(latest.Version, 3);
    const v1 = parameterOf(
      (await agent.get(`${PATH}?name=hosts&version=1`)).body,
    );
    assert.equal(v1.Value, "a,b");
    assert.equal(v1.Selector, ":1");
    const blue = parameterOf(
      (await agent.get(`${PATH}?name=hosts&label=blue`)).body,
    );
    assert.equal(blue.Value, "a,b,c");
    assert.equal(blue.Version, 2);
    assert.equal(blue.Selector, ":blue");
  });
});

Deno.test("parameter errors: AWS's mapped as for secrets, bad queries refused before any call", async () => {
  await withSecretsManagerServer(async (server) => {
    server.putParameter("known", "x");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "parameter_store = true",
    });
    const missing = await agent.get(`${PATH}?name=nope`);
    assert.equal(missing.status, 400);
    assert.equal(JSON.parse(missing.body).__type, "ParameterNotFound");
    const noVersion = await agent.get(`${PATH}?name=known&version=9`);
    assert.equal(noVersion.status, 400);
    assert.equal(
      JSON.parse(noVersion.body).__type,
      "ParameterVersionNotFound",
    );
    const calls = server.countCalls("GetParameter");
    const bad: [string, string][] = [
      ["", "missing parameter name"],
      ["?name=", "missing parameter name"],
      [
        "?name=known&version=1&label=a",
        "version and label can't both be given",
      ],
      ["?name=known&version=x", "invalid version value"],
      ["?name=known&version=0", "invalid version value"],
      ["?name=known&withDecryption=maybe", "invalid withDecryption value"],
      ["?name=known&secretId=a", "unknown parameter: secretId"],
      [
        "?name=known&roleArn=arn:aws:iam::123456789012:role/r",
        "unknown parameter: roleArn",
      ],
    ];
    for (const [query, message] of bad) {
      const response = await agent.get(`${PATH}${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.body, message, query);
    }
    assert.equal(server.countCalls("GetParameter"), calls);
    const noToken = await agent.get(`${PATH}?name=known`, { token: null });
    assert.equal(noToken.status, 403);
  });
});

Deno.test("concurrent requests for one uncached parameter share one GetParameter", async () => {
  await withSecretsManagerServer(async (server) => {
    server.putParameter("slow", "v");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "parameter_store = true",
    });
    server.setFault({ kind: "latency", ms: 200 }, {
      operations: ["GetParameter"],
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => agent.get(`${PATH}?name=slow`)),
    );
    assert.ok(answers.every((answer) => answer.status === 200));
    assert.equal(server.countCalls("GetParameter"), 1);
  });
});

Deno.test("a parameter and a secret of the same name are cached apart", async () => {
  await withSecretsManagerServer(async (server) => {
    server.putParameter("shared-name", "from-ssm");
    server.createSecret("shared-name", "from-secrets-manager");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "parameter_store = true",
    });
    const parameter = parameterOf(
      (await agent.get(`${PATH}?name=shared-name`)).body,
    );
    const secret = JSON.parse((await agent.get("/v1/shared-name")).body);
    assert.equal(parameter.Value, "from-ssm");
    assert.equal(secret.SecretString, "from-secrets-manager");
  });
});

Deno.test("without parameter_store, the path is not found and SSM is never called", async () => {
  await withSecretsManagerServer(async (server) => {
    server.putParameter("known", "x");
    await using agent = await startAgent({ endpoint: server.url });
    const response = await agent.get(`${PATH}?name=known`);
    assert.equal(response.status, 404);
    assert.equal(server.countCalls("GetParameter"), 0);
  });
});
