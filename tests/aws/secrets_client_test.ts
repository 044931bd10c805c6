import assert from "node:assert/strict";
import { createAwsCalls } from "../../src/aws/aws_calls.ts";
import { createSecretsClient } from "../../src/aws/secrets_client.ts";
import { UpstreamError } from "../../src/errors.ts";

/** The client against a loopback server that answers every call with `answer`. */
async function withAnswer(
  answer: Record<string, unknown>,
  run: (client: ReturnType<typeof createSecretsClient>) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json(answer, {
        headers: { "content-type": "application/x-amz-json-1.1" },
      }),
  );
  const client = createSecretsClient(createAwsCalls({
    region: "us-east-1",
    requestTimeoutMs: 5_000,
    credentials: () =>
      Promise.resolve({ accessKeyId: "AKID", secretAccessKey: "secret" }),
  }));
  // The SDK reads the endpoint from this variable, as the agent's tests do.
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  Deno.env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint);
  try {
    await run(client);
  } finally {
    Deno.env.delete("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    client.destroy();
    await server.shutdown();
  }
}

const FIELDS = {
  ARN: "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf",
  Name: "s",
  VersionId: "v1",
  VersionStages: ["AWSCURRENT"],
};

Deno.test("an answer holding SecretString or SecretBinary is that value, binary as base64", async () => {
  await withAnswer({ ...FIELDS, SecretString: "text" }, async (client) => {
    const value = await client.getSecretValue({ secretId: "s" });
    assert.equal(value.secretString, "text");
    assert.equal(value.secretBinary, undefined);
  });
  await withAnswer(
    { ...FIELDS, SecretBinary: btoa("\x00\xff") },
    async (client) => {
      const value = await client.getSecretValue({ secretId: "s" });
      assert.equal(value.secretBinary, btoa("\x00\xff"));
      assert.equal(value.secretString, undefined);
    },
  );
});

Deno.test("an answer with neither SecretString nor SecretBinary is an internal UpstreamError", async () => {
  await withAnswer(FIELDS, async (client) => {
    await assert.rejects(
      client.getSecretValue({ secretId: "s" }),
      (error) =>
        error instanceof UpstreamError &&
        error.failure.kind === "internal" &&
        /without SecretString or SecretBinary/.test(error.failure.detail),
    );
  });
});
