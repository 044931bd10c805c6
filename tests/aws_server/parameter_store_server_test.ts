import assert from "node:assert/strict";
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";
import {
  rejection,
  ssmClient,
  type TestClientOptions,
} from "../support/sdk_clients.ts";
import { signedFetch } from "../support/signed_request.ts";

const START_MS = 1_700_000_000_125;

async function withServer(
  fn: (server: SecretsManagerServer, client: SSMClient) => Promise<void>,
  clientOptions: TestClientOptions = {},
): Promise<void> {
  const server = await startSecretsManagerServer();
  const client = ssmClient(server, clientOptions);
  try {
    await fn(server, client);
  } finally {
    client.destroy();
    await server.close();
  }
}

function get(client: SSMClient, name: string, withDecryption?: boolean) {
  return client.send(
    new GetParameterCommand({ Name: name, WithDecryption: withDecryption }),
  );
}

Deno.test("GetParameter through the SSM client returns a String with every field SSM sends", async () => {
  await withServer(async (server, client) => {
    const { arn, version } = server.putParameter("/app/db/host", "db.local");
    assert.equal(
      arn,
      "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host",
    );
    assert.equal(version, 1);
    const { Parameter } = await get(client, "/app/db/host");
    assert.ok(Parameter?.LastModifiedDate instanceof Date);
    assert.deepEqual({ ...Parameter, LastModifiedDate: undefined }, {
      Name: "/app/db/host",
      Type: "String",
      Value: "db.local",
      Version: 1,
      LastModifiedDate: undefined,
      ARN: arn,
      DataType: "text",
    });
    assert.deepEqual(
      server.calls().map((c) => [c.service, c.operation, c.parameterName]),
      [["ssm", "GetParameter", "/app/db/host"]],
    );
    assert.match(server.calls()[0].userAgent, /api\/ssm/);
    assert.equal(server.countCalls("GetParameter"), 1);
  });
});

Deno.test("LastModifiedDate travels as epoch seconds with a fraction", async () => {
  const server = await startSecretsManagerServer({ now: () => START_MS });
  try {
    server.putParameter("plain", "v");
    const response = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      '{"Name":"plain"}',
      {
        target: "AmazonSSM.GetParameter",
        service: "ssm",
        signingDate: new Date(START_MS),
      },
    );
    assert.equal(response.status, 200);
    assert.equal(
      await response.text(),
      '{"Parameter":{"Name":"plain","Type":"String","Value":"v","Version":1,"LastModifiedDate":1700000000.125,"ARN":"arn:aws:ssm:us-east-1:123456789012:parameter/plain","DataType":"text"}}',
    );
  } finally {
    await server.close();
  }
});

Deno.test("a StringList comes back as the comma-separated text it was put as", async () => {
  await withServer(async (server, client) => {
    server.putParameter("hosts", "a.local,b.local", { type: "StringList" });
    const { Parameter } = await get(client, "hosts");
    assert.equal(Parameter?.Type, "StringList");
    assert.equal(Parameter?.Value, "a.local,b.local");
  });
});

Deno.test("a SecureString is ciphertext without decryption and plaintext with it", async () => {
  await withServer(async (server, client) => {
    server.putParameter("/app/db/password", "hunter2", {
      type: "SecureString",
    });
    const hidden = (await get(client, "/app/db/password")).Parameter!;
    const hiddenAgain = (await get(client, "/app/db/password", false))
      .Parameter!;
    assert.equal(hidden.Type, "SecureString");
    assert.notEqual(hidden.Value, "hunter2");
    assert.ok(!atob(hidden.Value!).includes("hunter2"));
    // Deterministic, and shaped like a KMS blob.
    assert.equal(
      hidden.Value,
      "AQICAHjJZtpjP/S+a7+kI1VSov54LORSaXi/YyWVdk6lJT9ylA==",
    );
    assert.equal(hiddenAgain.Value, hidden.Value);
    const shown = (await get(client, "/app/db/password", true)).Parameter!;
    assert.equal(shown.Value, "hunter2");
    // A new value is a new ciphertext.
    server.putParameter("/app/db/password", "hunter3");
    const next = (await get(client, "/app/db/password")).Parameter!;
    assert.equal(next.Type, "SecureString");
    assert.notEqual(next.Value, hidden.Value);
  });
});

Deno.test("version and label selectors pick a version and come back as Selector", async () => {
  await withServer(async (server, client) => {
    server.putParameter("/cfg", "one", { labels: ["stable"] });
    server.putParameter("/cfg", "two");
    server.putParameter("/cfg", "three");
    const latest = (await get(client, "/cfg")).Parameter!;
    assert.deepEqual([latest.Value, latest.Version, latest.Selector], [
      "three",
      3,
      undefined,
    ]);
    const second = (await get(client, "/cfg:2")).Parameter!;
    assert.deepEqual([
      second.Name,
      second.Value,
      second.Version,
      second.Selector,
    ], [
      "/cfg",
      "two",
      2,
      ":2",
    ]);
    const stable = (await get(client, "/cfg:stable")).Parameter!;
    assert.deepEqual([stable.Value, stable.Version, stable.Selector], [
      "one",
      1,
      ":stable",
    ]);
    server.labelParameterVersion("/cfg", 3, ["stable"]);
    assert.equal((await get(client, "/cfg:stable")).Parameter?.Value, "three");
    assert.deepEqual(server.calls().map((c) => c.parameterName), [
      "/cfg",
      "/cfg:2",
      "/cfg:stable",
      "/cfg:stable",
    ]);
  });
});

Deno.test("an ARN names a parameter, with or without a selector", async () => {
  await withServer(async (server, client) => {
    const flat = server.putParameter("plain", "flat").arn;
    const deep = server.putParameter("/app/db/password", "deep").arn;
    server.putParameter("/app/db/password", "deeper");
    assert.equal(flat, "arn:aws:ssm:us-east-1:123456789012:parameter/plain");
    assert.equal((await get(client, flat)).Parameter?.Name, "plain");
    assert.equal((await get(client, flat)).Parameter?.Value, "flat");
    const old = (await get(client, `${deep}:1`)).Parameter!;
    assert.deepEqual([old.Name, old.Value, old.Selector, old.ARN], [
      "/app/db/password",
      "deep",
      ":1",
      deep,
    ]);
  });
});

Deno.test("a missing parameter is a 400 ParameterNotFound", async () => {
  await withServer(async (_server, client) => {
    const error = await rejection(get(client, "/nope"));
    assert.equal(error.name, "ParameterNotFound");
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.equal(error.$fault, "client");
  });
});

Deno.test("a missing version or label is a 400 ParameterVersionNotFound", async () => {
  await withServer(async (server, client) => {
    server.putParameter("/cfg", "one");
    const version = await rejection(get(client, "/cfg:7"));
    assert.equal(version.name, "ParameterVersionNotFound");
    assert.equal(
      version.message,
      "Systems Manager could not find version 7 of /cfg. Verify the version and try again.",
    );
    assert.equal(version.$metadata?.httpStatusCode, 400);
    const label = await rejection(get(client, "/cfg:canary"));
    assert.equal(label.name, "ParameterVersionNotFound");
    assert.equal(
      label.message,
      "Systems Manager could not find label canary of /cfg. Verify the label and try again.",
    );
  });
});

Deno.test("an invalid name or selector is a 400 ValidationException", async () => {
  await withServer(async (_server, client) => {
    const relative = await rejection(get(client, "app/db"));
    assert.equal(relative.name, "ValidationException");
    assert.equal(
      relative.message,
      "Parameter name must be a fully qualified name.",
    );
    assert.equal(relative.$metadata?.httpStatusCode, 400);
    for (const name of ["/a b", "/cfg:", "/cfg:9lives"]) {
      assert.equal(
        (await rejection(get(client, name))).name,
        "ValidationException",
        name,
      );
    }
  });
});

Deno.test("faults hit SSM calls: throttle, 500 and 503 in JSON 1.1 form", async () => {
  await withServer(async (server, client) => {
    server.putParameter("/p", "v");
    server.setFault({ kind: "throttle" }, {
      operations: ["GetParameter"],
      times: 1,
    });
    const throttled = await rejection(get(client, "/p"));
    assert.equal(throttled.name, "ThrottlingException");
    assert.equal(throttled.$metadata?.httpStatusCode, 400);
    server.setFault({ kind: "status", status: 500 }, { times: 1 });
    const internal = await rejection(get(client, "/p"));
    assert.equal(internal.name, "InternalServerError");
    assert.equal(internal.$metadata?.httpStatusCode, 500);
    assert.equal(internal.$fault, "server");
    server.setFault({ kind: "status", status: 503 }, { times: 1 });
    const unavailable = await rejection(get(client, "/p"));
    assert.equal(unavailable.name, "ServiceUnavailable");
    assert.equal(unavailable.$metadata?.httpStatusCode, 503);
    assert.equal((await get(client, "/p")).Parameter?.Value, "v");
    assert.deepEqual(server.calls().map((c) => c.fault), [
      "throttle",
      "status",
      "status",
      undefined,
    ]);
  });
});

Deno.test("a wrong secret key is refused with InvalidSignatureException", async () => {
  await withServer(async (server, client) => {
    server.putParameter("/p", "v");
    const error = await rejection(get(client, "/p"));
    assert.equal(error.name, "InvalidSignatureException");
    assert.match(
      error.message,
      /^The request signature we calculated does not match/,
    );
    assert.equal(error.$metadata?.httpStatusCode, 400);
  }, { credentials: { ...TEST_CREDENTIALS, secretAccessKey: "wrong" } });
});

Deno.test("an unknown access key is refused with UnrecognizedClientException", async () => {
  await withServer(async (_server, client) => {
    const error = await rejection(get(client, "/p"));
    assert.equal(error.name, "UnrecognizedClientException");
  }, {
    credentials: {
      accessKeyId: "AKIAUNKNOWNEXAMPLE00",
      secretAccessKey: "x",
    },
  });
});

Deno.test("an SSM call signed for the secretsmanager service is refused, and the other way round", async () => {
  await withServer(async (server) => {
    server.putParameter("/p", "v");
    server.createSecret("s", "v");
    const asSecretsManager = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      '{"Name":"/p"}',
      { target: "AmazonSSM.GetParameter", service: "secretsmanager" },
    );
    assert.equal(asSecretsManager.status, 400);
    assert.deepEqual(await asSecretsManager.json(), {
      __type: "InvalidSignatureException",
      message: "Credential should be scoped to correct service: 'ssm'.",
    });
    const asSsm = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      '{"SecretId":"s"}',
      { target: "secretsmanager.GetSecretValue", service: "ssm" },
    );
    assert.deepEqual(await asSsm.json(), {
      __type: "InvalidSignatureException",
      message:
        "Credential should be scoped to correct service: 'secretsmanager'.",
    });
    const rightly = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      '{"Name":"/p"}',
      { target: "AmazonSSM.GetParameter", service: "ssm" },
    );
    assert.equal(rightly.status, 200);
  });
});

Deno.test("an SSM operation the server does not implement is an UnknownOperationException", async () => {
  await withServer(async (server) => {
    const response = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      '{"Names":["/p"]}',
      { target: "AmazonSSM.GetParameters", service: "ssm" },
    );
    assert.equal(response.status, 400);
    assert.equal((await response.json()).__type, "UnknownOperationException");
    assert.deepEqual(
      server.calls().map((c) => [c.service, c.operation]),
      [["ssm", "GetParameters"]],
    );
  });
});
