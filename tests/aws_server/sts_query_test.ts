import assert from "node:assert/strict";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import {
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";
import { rejection, stsClient } from "../support/sdk_clients.ts";
import { signedFetch } from "../support/signed_request.ts";

async function callerIdentity(
  options: {
    secretAccessKey?: string;
    accessKeyId?: string;
    fault?: "throttle";
  } = {},
) {
  const server = await startSecretsManagerServer({ accountId: "210987654321" });
  if (options.fault) server.setFault({ kind: options.fault });
  const client = stsClient(server, {
    credentials: { ...TEST_CREDENTIALS, ...options },
  });
  try {
    const out = await client.send(new GetCallerIdentityCommand({}));
    return { out, calls: server.calls() };
  } finally {
    client.destroy();
    await server.close();
  }
}

Deno.test("GetCallerIdentity through the STS client names the account and the key", async () => {
  const { out, calls } = await callerIdentity();
  assert.equal(out.Account, "210987654321");
  assert.equal(out.UserId, TEST_CREDENTIALS.accessKeyId);
  assert.equal(out.Arn, "arn:aws:iam::210987654321:user/local-test");
  assert.deepEqual(calls.map((c) => [c.service, c.operation]), [[
    "sts",
    "GetCallerIdentity",
  ]]);
  assert.match(calls[0].userAgent, /api\/sts/);
});

Deno.test("the STS client speaks awsQuery: a form-encoded Action, answered in XML", async () => {
  const server = await startSecretsManagerServer();
  try {
    const response = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      "Action=GetCallerIdentity&Version=2011-06-15",
      {
        contentType: "application/x-www-form-urlencoded; charset=utf-8",
        service: "sts",
      },
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/xml");
    const xml = await response.text();
    assert.match(
      xml,
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/,
    );
    assert.match(xml, /<Account>123456789012<\/Account>/);
  } finally {
    await server.close();
  }
});

Deno.test("a wrong secret key is a 403 SignatureDoesNotMatch ErrorResponse", async () => {
  const error = await rejection(callerIdentity({ secretAccessKey: "wrong" }));
  assert.equal(error.name, "SignatureDoesNotMatch");
  assert.equal(error.$metadata?.httpStatusCode, 403);
  assert.equal(error.$fault, "client");
});

Deno.test("an unknown access key is a 403 InvalidClientTokenId", async () => {
  const error = await rejection(
    callerIdentity({ accessKeyId: "AKIAUNKNOWNEXAMPLE00" }),
  );
  assert.equal(error.name, "InvalidClientTokenId");
  assert.equal(
    error.message,
    "The security token included in the request is invalid.",
  );
  assert.equal(error.$metadata?.httpStatusCode, 403);
});

Deno.test("a throttle fault on STS answers 400 Throttling in awsQuery form", async () => {
  const error = await rejection(callerIdentity({ fault: "throttle" }));
  assert.equal(error.name, "Throttling");
  assert.equal(error.$metadata?.httpStatusCode, 400);
});

Deno.test("an unknown STS action is an InvalidAction ErrorResponse", async () => {
  const server = await startSecretsManagerServer();
  try {
    const response = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      "Action=GetFederationToken&Version=2011-06-15",
      { contentType: "application/x-www-form-urlencoded", service: "sts" },
    );
    assert.equal(response.status, 400);
    assert.match(await response.text(), /<Code>InvalidAction<\/Code>/);
  } finally {
    await server.close();
  }
});
