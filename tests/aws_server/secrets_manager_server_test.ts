import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";
import { rejection, secretsManagerClient } from "../support/sdk_clients.ts";
import { signedFetch } from "../support/signed_request.ts";

async function withServer(
  fn: (
    server: SecretsManagerServer,
    client: SecretsManagerClient,
  ) => Promise<void>,
): Promise<void> {
  const server = await startSecretsManagerServer();
  const client = secretsManagerClient(server, { userAgent: "test-agent/1.0" });
  try {
    await fn(server, client);
  } finally {
    client.destroy();
    await server.close();
  }
}

Deno.test("the server listens on 127.0.0.1 at the port it reports", async () => {
  const server = await startSecretsManagerServer();
  try {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  } finally {
    await server.close();
  }
});

Deno.test("GetSecretValue through the SDK returns a seeded secret by name and by ARN", async () => {
  await withServer(async (server, client) => {
    const { arn, versionId } = server.createSecret("app/db", '{"pw":"x"}');
    for (const id of ["app/db", arn]) {
      const out = await client.send(
        new GetSecretValueCommand({ SecretId: id }),
      );
      assert.equal(out.ARN, arn);
      assert.equal(out.Name, "app/db");
      assert.equal(out.VersionId, versionId);
      assert.equal(out.SecretString, '{"pw":"x"}');
      assert.deepEqual(out.VersionStages, ["AWSCURRENT"]);
      assert.ok(out.CreatedDate instanceof Date);
    }
  });
});

Deno.test("binary secrets travel as base64 and come back as the same bytes", async () => {
  await withServer(async (server, client) => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    await client.send(
      new CreateSecretCommand({ Name: "bin", SecretBinary: bytes }),
    );
    const out = await client.send(
      new GetSecretValueCommand({ SecretId: "bin" }),
    );
    assert.deepEqual(out.SecretBinary, bytes);
    assert.equal(out.SecretString, undefined);
    assert.deepEqual(server.store.getSecretValue("bin").secretBinary, bytes);
  });
});

Deno.test("CreateSecret uses ClientRequestToken as the version id and refuses a second secret of the same name", async () => {
  await withServer(async (_server, client) => {
    const token = "11111111-2222-3333-4444-555555555555";
    const created = await client.send(
      new CreateSecretCommand({
        Name: "s",
        SecretString: "v",
        ClientRequestToken: token,
      }),
    );
    assert.equal(created.VersionId, token);
    assert.match(
      created.ARN!,
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:s-[A-Za-z0-9]{6}$/,
    );
    const error = await rejection(
      client.send(new CreateSecretCommand({ Name: "s", SecretString: "w" })),
    );
    assert.equal(error.name, "ResourceExistsException");
    assert.equal(error.$metadata?.httpStatusCode, 400);
  });
});

Deno.test("rotation: put, then move AWSCURRENT back and forth, as AWS documents", async () => {
  await withServer(async (server, client) => {
    const current = () =>
      client.send(new GetSecretValueCommand({ SecretId: "rot" }));
    const stages = async () =>
      (await client.send(new DescribeSecretCommand({ SecretId: "rot" })))
        .VersionIdsToStages;
    const v1 = (await client.send(
      new CreateSecretCommand({ Name: "rot", SecretString: "one" }),
    ))
      .VersionId!;
    const put = await client.send(
      new PutSecretValueCommand({ SecretId: "rot", SecretString: "two" }),
    );
    const v2 = put.VersionId!;
    assert.deepEqual(put.VersionStages, ["AWSCURRENT"]);
    assert.deepEqual(await stages(), {
      [v1]: ["AWSPREVIOUS"],
      [v2]: ["AWSCURRENT"],
    });
    assert.equal((await current()).SecretString, "two");

    // Roll back: AWSCURRENT to v1; AWSPREVIOUS follows to v2.
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: "rot",
        VersionStage: "AWSCURRENT",
        MoveToVersionId: v1,
        RemoveFromVersionId: v2,
      }),
    );
    assert.deepEqual(await stages(), {
      [v1]: ["AWSCURRENT"],
      [v2]: ["AWSPREVIOUS"],
    });
    assert.equal((await current()).SecretString, "one");
    const previous = await client.send(
      new GetSecretValueCommand({
        SecretId: "rot",
        VersionStage: "AWSPREVIOUS",
      }),
    );
    assert.equal(previous.SecretString, "two");

    // A pending version does not change what is current.
    const v3 = (await client.send(
      new PutSecretValueCommand({
        SecretId: "rot",
        SecretString: "three",
        VersionStages: ["AWSPENDING"],
      }),
    )).VersionId!;
    assert.equal((await current()).SecretString, "one");
    assert.deepEqual(await stages(), {
      [v1]: ["AWSCURRENT"],
      [v2]: ["AWSPREVIOUS"],
      [v3]: ["AWSPENDING"],
    });

    // Promote it; the old AWSPREVIOUS (v2) is left without labels.
    server.updateSecretVersionStage("rot", "AWSCURRENT", {
      moveToVersionId: v3,
      removeFromVersionId: v1,
    });
    assert.equal((await current()).SecretString, "three");
    assert.deepEqual(await stages(), {
      [v1]: ["AWSPREVIOUS"],
      [v3]: ["AWSPENDING", "AWSCURRENT"],
    });
    const byId = await client.send(
      new GetSecretValueCommand({ SecretId: "rot", VersionId: v2 }),
    );
    assert.deepEqual([byId.SecretString, byId.VersionStages], ["two", []]);
  });
});

Deno.test("the seeding API is seen by SDK calls", async () => {
  await withServer(async (server, client) => {
    const { versionId: v1 } = server.createSecret("seeded", "one");
    const { versionId: v2 } = server.putSecretValue("seeded", "two", {
      versionStages: ["AWSPENDING"],
    });
    const pending = await client.send(
      new GetSecretValueCommand({
        SecretId: "seeded",
        VersionStage: "AWSPENDING",
      }),
    );
    assert.equal(pending.VersionId, v2);
    server.updateSecretVersionStage("seeded", "AWSCURRENT", {
      moveToVersionId: v2,
      removeFromVersionId: v1,
    });
    assert.equal(
      (await client.send(new GetSecretValueCommand({ SecretId: "seeded" })))
        .SecretString,
      "two",
    );
    server.deleteSecret("seeded");
    const error = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: "seeded" })),
    );
    assert.equal(error.name, "ResourceNotFoundException");
  });
});

Deno.test("every call is recorded with operation, user agent, time and secret id", async () => {
  await withServer(async (server, client) => {
    server.createSecret("s", "v");
    await client.send(new GetSecretValueCommand({ SecretId: "s" }));
    await client.send(new DescribeSecretCommand({ SecretId: "s" }));
    await rejection(
      client.send(new GetSecretValueCommand({ SecretId: "nope" })),
    );
    assert.equal(server.countCalls("GetSecretValue"), 2);
    assert.equal(server.countCalls("DescribeSecret"), 1);
    const calls = server.calls();
    assert.deepEqual(calls.map((c) => c.secretId), ["s", "s", "nope"]);
    assert.match(calls[0].userAgent, /test-agent\/1\.0/);
    assert.ok(calls[0].time instanceof Date);
    server.resetCalls();
    assert.deepEqual(server.calls(), []);
  });
});

Deno.test("the SDK reaches the server through AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_STS", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("from-env", "env-value");
    const code = `
      import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
      import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
      const sm = new SecretsManagerClient({});
      const sts = new STSClient({});
      const value = await sm.send(new GetSecretValueCommand({ SecretId: "from-env" }));
      const who = await sts.send(new GetCallerIdentityCommand({}));
      console.log(JSON.stringify({ value: value.SecretString, account: who.Account }));
      sm.destroy(); sts.destroy();`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--frozen", code],
      cwd: new URL("../../", import.meta.url).pathname,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? "/tmp",
        ...(Deno.env.has("DENO_DIR")
          ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
          : {}),
        AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
        AWS_ENDPOINT_URL_STS: server.url,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: "us-east-1",
        AWS_CONFIG_FILE: "/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
        AWS_EC2_METADATA_DISABLED: "true",
      },
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), {
      value: "env-value",
      account: "123456789012",
    });
    assert.equal(server.countCalls("GetSecretValue"), 1);
    assert.equal(server.countCalls("GetCallerIdentity"), 1);
  } finally {
    await server.close();
  }
});

Deno.test("setErrorMessageKey writes JSON errors with a capital Message, as some AWS endpoints do, and back", async () => {
  const server = await startSecretsManagerServer();
  try {
    const ask = async () =>
      await (await signedFetch(
        server.url,
        TEST_CREDENTIALS,
        JSON.stringify({ SecretId: "nowhere" }),
        { target: "secretsmanager.GetSecretValue" },
      )).json();
    const plain = await ask();
    server.setErrorMessageKey("Message");
    const capital = await ask();
    server.setErrorMessageKey("message");
    assert.equal(plain.__type, "ResourceNotFoundException");
    assert.deepEqual(capital, {
      __type: plain.__type,
      Message: plain.message,
    });
    assert.deepEqual(await ask(), plain);
  } finally {
    await server.close();
  }
});

Deno.test("secrets seeded with tags are listed by ListSecrets tag filters, as prefixes, every filter matching", async () => {
  await withServer(async (server, client) => {
    server.createSecret("pay/db", "1", {
      tags: [{ key: "team", value: "payments" }],
    });
    server.createSecret("pay/old", "2", {
      tags: [{ key: "team", value: "payments-old" }],
    });
    server.createSecret("ops/db", "3", {
      tags: [{ key: "env", value: "prod" }],
    });
    server.createSecret("untagged", "4");
    const names = async (
      filters: { Key: "tag-key" | "tag-value"; Values: string[] }[],
    ) =>
      ((await client.send(new ListSecretsCommand({ Filters: filters })))
        .SecretList ?? []).map((entry) => entry.Name).sort();
    assert.deepEqual(await names([{ Key: "tag-key", Values: ["team"] }]), [
      "pay/db",
      "pay/old",
    ]);
    assert.deepEqual(
      await names([{ Key: "tag-key", Values: ["te"] }, {
        Key: "tag-value",
        Values: ["payments-"],
      }]),
      ["pay/old"],
    );
    assert.deepEqual(await names([{ Key: "tag-value", Values: ["prod"] }]), [
      "ops/db",
    ]);
    const listed = await client.send(
      new ListSecretsCommand({
        Filters: [{ Key: "tag-key", Values: ["env"] }],
      }),
    );
    assert.deepEqual(listed.SecretList?.[0].Tags, [
      { Key: "env", Value: "prod" },
    ]);
  });
});
