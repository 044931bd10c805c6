import assert from "node:assert/strict";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import { signedFetch } from "../support/signed_request.ts";

function call(server: SecretsManagerServer, operation: string, body: unknown) {
  return signedFetch(server.url, TEST_CREDENTIALS, JSON.stringify(body), {
    target: `secretsmanager.${operation}`,
  });
}

Deno.test("GetSecretValue answers JSON 1.1 with CreatedDate as epoch seconds with a fraction", async () => {
  await withSecretsManagerServer(async (server) => {
    server.store.createSecret("s", { value: "v" });
    const response = await call(server, "GetSecretValue", { SecretId: "s" });
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get("content-type"),
      "application/x-amz-json-1.1",
    );
    assert.ok(response.headers.get("x-amzn-requestid"));
    const text = await response.text();
    const body = JSON.parse(text);
    assert.deepEqual(Object.keys(body), [
      "ARN",
      "Name",
      "VersionId",
      "SecretString",
      "VersionStages",
      "CreatedDate",
    ]);
    assert.equal(typeof body.CreatedDate, "number");
    assert.match(text, /"CreatedDate":\d{10}(\.\d{1,3})?[,}]/);
  });
});

Deno.test("a fixed clock gives CreatedDate exactly as AWS prints it", async () => {
  const server = await startSecretsManagerServer({
    now: () => 1_569_534_789_046,
  });
  try {
    server.createSecret("s", "v");
    // Signed "now" by the real clock would be 7 years off: sign at the fixed time.
    const response = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      '{"SecretId":"s"}',
      {
        target: "secretsmanager.GetSecretValue",
        signingDate: new Date(1_569_534_789_046),
      },
    );
    assert.match(await response.text(), /"CreatedDate":1569534789\.046}/);
  } finally {
    await server.close();
  }
});

Deno.test("SecretBinary is base64 on the wire", async () => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret("bin", new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    const body =
      await (await call(server, "GetSecretValue", { SecretId: "bin" })).json();
    assert.equal(body.SecretBinary, "3q2+7w==");
    assert.equal(body.SecretString, undefined);
  });
});

Deno.test("errors are a __type/message body with x-amzn-ErrorType and status 400", async () => {
  await withSecretsManagerServer(async (server) => {
    const response = await call(server, "GetSecretValue", {
      SecretId: "missing",
    });
    assert.equal(response.status, 400);
    assert.equal(
      response.headers.get("x-amzn-errortype"),
      "ResourceNotFoundException:",
    );
    assert.deepEqual(await response.json(), {
      __type: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
    });
  });
});

Deno.test("malformed JSON is a SerializationException", async () => {
  await withSecretsManagerServer(async (server) => {
    for (const body of ["{not json", "[1,2]"]) {
      const response = await signedFetch(server.url, TEST_CREDENTIALS, body, {
        target: "secretsmanager.GetSecretValue",
      });
      assert.equal(response.status, 400);
      assert.equal((await response.json()).__type, "SerializationException");
    }
    const wrongType = await call(server, "GetSecretValue", { SecretId: 42 });
    assert.equal((await wrongType.json()).__type, "SerializationException");
  });
});

Deno.test("a missing or unknown X-Amz-Target is an UnknownOperationException", async () => {
  await withSecretsManagerServer(async (server) => {
    for (
      const target of [
        undefined,
        "secretsmanager.RotateEverything",
        "dynamodb.GetItem",
      ]
    ) {
      const response = await signedFetch(server.url, TEST_CREDENTIALS, "{}", {
        target,
      });
      assert.equal(response.status, 400, String(target));
      assert.equal((await response.json()).__type, "UnknownOperationException");
    }
    assert.deepEqual(server.calls().map((c) => c.operation), [
      "",
      "RotateEverything",
      "dynamodb.GetItem",
    ]);
  });
});

Deno.test("a missing required member is a ValidationException", async () => {
  await withSecretsManagerServer(async (server) => {
    const response = await call(server, "GetSecretValue", {});
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.__type, "ValidationException");
    assert.match(
      body.message,
      /'secretId' failed to satisfy constraint: Member must not be null/,
    );
  });
});

Deno.test("an unsigned request is refused with MissingAuthenticationTokenException", async () => {
  await withSecretsManagerServer(async (server) => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.ListSecrets",
      },
      body: "{}",
    });
    assert.equal(response.status, 400);
    assert.equal(
      (await response.json()).__type,
      "MissingAuthenticationTokenException",
    );
  });
});
