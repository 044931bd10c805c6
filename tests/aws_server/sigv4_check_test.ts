import assert from "node:assert/strict";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import {
  startSecretsManagerServer,
  TEST_CREDENTIALS,
  type TestCredentials,
} from "../support/secrets_manager_server.ts";
import { rejection, secretsManagerClient } from "../support/sdk_clients.ts";
import { signedFetch } from "../support/signed_request.ts";
import { verifySignature } from "../support/sigv4_check.ts";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

const OTHER: TestCredentials = {
  accessKeyId: "AKIAOTHERTESTEXAMPLE",
  secretAccessKey: "other/secret/access/key/EXAMPLEKEY",
};

async function getWith(
  credentials: TestCredentials,
  options: { region?: string; accepted?: readonly TestCredentials[] } = {},
) {
  const server = await startSecretsManagerServer({
    credentials: options.accepted,
  });
  server.createSecret("s", "v");
  const client = secretsManagerClient(server, {
    credentials,
    region: options.region,
  });
  try {
    return await client.send(new GetSecretValueCommand({ SecretId: "s" }));
  } finally {
    client.destroy();
    await server.close();
  }
}

Deno.test("a request signed with an accepted key pair is answered", async () => {
  assert.equal((await getWith(TEST_CREDENTIALS)).SecretString, "v");
  const both = [TEST_CREDENTIALS, OTHER];
  assert.equal((await getWith(OTHER, { accepted: both })).SecretString, "v");
});

Deno.test("a wrong secret key is a 400 InvalidSignatureException", async () => {
  const error = await rejection(
    getWith({ ...TEST_CREDENTIALS, secretAccessKey: "wrong" }),
  );
  assert.equal(error.name, "InvalidSignatureException");
  assert.match(
    error.message,
    /^The request signature we calculated does not match/,
  );
  assert.equal(error.$metadata?.httpStatusCode, 400);
});

Deno.test("an unknown access key is a 400 UnrecognizedClientException", async () => {
  const error = await rejection(getWith(OTHER));
  assert.equal(error.name, "UnrecognizedClientException");
  assert.equal(
    error.message,
    "The security token included in the request is invalid.",
  );
  assert.equal(error.$metadata?.httpStatusCode, 400);
});

Deno.test("a session token must match the one the key pair was issued with", async () => {
  const temporary = { ...OTHER, sessionToken: "session-token-1" };
  assert.equal(
    (await getWith(temporary, { accepted: [temporary] })).SecretString,
    "v",
  );
  const error = await rejection(
    getWith({ ...temporary, sessionToken: "forged" }, {
      accepted: [temporary],
    }),
  );
  assert.equal(error.name, "UnrecognizedClientException");
});

Deno.test("a signature scoped to another region is refused", async () => {
  const error = await rejection(
    getWith(TEST_CREDENTIALS, { region: "eu-west-1" }),
  );
  assert.equal(error.name, "InvalidSignatureException");
  assert.match(error.message, /valid region/);
});

Deno.test("a signature older than 15 minutes is refused as expired", async () => {
  const server = await startSecretsManagerServer();
  try {
    const response = await signedFetch(server.url, TEST_CREDENTIALS, "{}", {
      target: "secretsmanager.ListSecrets",
      signingDate: new Date(Date.now() - 16 * 60 * 1000),
    });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.__type, "InvalidSignatureException");
    assert.match(body.message, /^Signature expired: \d{8}T\d{6}Z/);
  } finally {
    await server.close();
  }
});

Deno.test("verifySignature detects a body changed after signing", async () => {
  const signer = new SignatureV4({
    credentials: { ...TEST_CREDENTIALS },
    region: "us-east-1",
    service: "secretsmanager",
    sha256: Sha256,
  });
  const body = '{"SecretId":"a"}';
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    path: "/",
    query: {},
    headers: {
      host: "127.0.0.1:1",
      "x-amz-target": "secretsmanager.GetSecretValue",
    },
    body,
  });
  const received = {
    method: "POST",
    target: "/",
    headers: signed.headers,
    body: new TextEncoder().encode(body),
  };
  const accepted = [TEST_CREDENTIALS];
  assert.deepEqual(await verifySignature(received, accepted), {
    accessKeyId: TEST_CREDENTIALS.accessKeyId,
    region: "us-east-1",
    service: "secretsmanager",
  });
  const tampered = {
    ...received,
    body: new TextEncoder().encode('{"SecretId":"b"}'),
  };
  assert.deepEqual(await verifySignature(tampered, accepted), {
    kind: "bad_signature",
  });
  const otherTarget = {
    ...received,
    headers: {
      ...received.headers,
      "x-amz-target": "secretsmanager.DeleteSecret",
    },
  };
  assert.deepEqual(await verifySignature(otherTarget, accepted), {
    kind: "bad_signature",
  });
  const basic = {
    ...received,
    headers: { ...received.headers, authorization: "Basic x" },
  };
  assert.equal(
    (await verifySignature(basic, accepted) as { kind: string }).kind,
    "malformed",
  );
});
