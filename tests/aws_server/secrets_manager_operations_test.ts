import assert from "node:assert/strict";
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
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
} from "../support/secrets_manager_server.ts";
import { rejection, secretsManagerClient } from "../support/sdk_clients.ts";

async function withServer(
  fn: (
    server: SecretsManagerServer,
    client: SecretsManagerClient,
  ) => Promise<void>,
): Promise<void> {
  const server = await startSecretsManagerServer();
  const client = secretsManagerClient(server);
  try {
    await fn(server, client);
  } finally {
    client.destroy();
    await server.close();
  }
}

async function sdkError(
  client: SecretsManagerClient,
  // deno-lint-ignore no-explicit-any
  command: any,
): Promise<{ name: string; message: string; status?: number }> {
  const error = await rejection(client.send(command));
  return {
    name: error.name,
    message: error.message,
    status: error.$metadata?.httpStatusCode,
  };
}

Deno.test("an unknown secret is a 400 ResourceNotFoundException with AWS's message", async () => {
  await withServer(async (_server, client) => {
    assert.deepEqual(
      await sdkError(
        client,
        new GetSecretValueCommand({ SecretId: "missing" }),
      ),
      {
        name: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret.",
        status: 400,
      },
    );
  });
});

Deno.test("an unknown staging label or version id is a ResourceNotFoundException naming it", async () => {
  await withServer(async (server, client) => {
    server.createSecret("s", "v");
    const stage = await sdkError(
      client,
      new GetSecretValueCommand({ SecretId: "s", VersionStage: "AWSPENDING" }),
    );
    assert.equal(stage.name, "ResourceNotFoundException");
    assert.match(stage.message, /staging label: AWSPENDING$/);
    const id = "0".repeat(32);
    const version = await sdkError(
      client,
      new GetSecretValueCommand({ SecretId: "s", VersionId: id }),
    );
    assert.equal(version.name, "ResourceNotFoundException");
    assert.match(version.message, new RegExp(`VersionId: ${id}$`));
  });
});

Deno.test("a VersionId and VersionStage that do not match are an InvalidRequestException", async () => {
  await withServer(async (server, client) => {
    const { versionId } = server.createSecret("s", "v");
    const error = await sdkError(
      client,
      new GetSecretValueCommand({
        SecretId: "s",
        VersionId: versionId,
        VersionStage: "AWSPREVIOUS",
      }),
    );
    assert.deepEqual(error, {
      name: "InvalidRequestException",
      message:
        "You provided a VersionStage that is not associated to the provided VersionId.",
      status: 400,
    });
  });
});

Deno.test("a VersionId shorter than 32 characters is a ValidationException", async () => {
  await withServer(async (server, client) => {
    server.createSecret("s", "v");
    const error = await sdkError(
      client,
      new GetSecretValueCommand({ SecretId: "s", VersionId: "v1" }),
    );
    assert.equal(error.name, "ValidationException");
    assert.equal(error.status, 400);
  });
});

Deno.test("a value that is both string and binary, or neither, is refused", async () => {
  await withServer(async (server, client) => {
    const both = await sdkError(
      client,
      new CreateSecretCommand({
        Name: "x",
        SecretString: "a",
        SecretBinary: new Uint8Array([1]),
      }),
    );
    assert.equal(both.name, "InvalidParameterException");
    server.createSecret("s", "v");
    const neither = await sdkError(
      client,
      new PutSecretValueCommand({ SecretId: "s" }),
    );
    assert.equal(neither.name, "InvalidRequestException");
  });
});

Deno.test("moving AWSCURRENT without RemoveFromVersionId is an InvalidParameterException", async () => {
  await withServer(async (server, client) => {
    const { versionId: v1 } = server.createSecret("s", "one");
    const { versionId: v2 } = server.putSecretValue("s", "two");
    const error = await sdkError(
      client,
      new UpdateSecretVersionStageCommand({
        SecretId: "s",
        VersionStage: "AWSCURRENT",
        MoveToVersionId: v1,
      }),
    );
    assert.equal(error.name, "InvalidParameterException");
    assert.equal(
      error.message,
      `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${v2}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
    assert.equal(
      (await client.send(new GetSecretValueCommand({ SecretId: "s" })))
        .VersionId,
      v2,
    );
  });
});

Deno.test("PutSecretValue retried with the same ClientRequestToken creates no second version", async () => {
  await withServer(async (server, client) => {
    server.createSecret("s", "one");
    const token = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const put = () =>
      client.send(
        new PutSecretValueCommand({
          SecretId: "s",
          SecretString: "two",
          ClientRequestToken: token,
        }),
      );
    assert.equal((await put()).VersionId, token);
    assert.equal((await put()).VersionId, token);
    assert.equal(
      Object.keys(server.store.describeSecret("s").versionIdsToStages).length,
      2,
    );
    const changed = await sdkError(
      client,
      new PutSecretValueCommand({
        SecretId: "s",
        SecretString: "three",
        ClientRequestToken: token,
      }),
    );
    assert.equal(changed.name, "ResourceExistsException");
  });
});

Deno.test("DeleteSecret schedules a deletion or, forced, removes the secret", async () => {
  await withServer(async (server, client) => {
    server.createSecret("soft", "v");
    server.createSecret("hard", "v");
    const soft = await client.send(
      new DeleteSecretCommand({ SecretId: "soft", RecoveryWindowInDays: 7 }),
    );
    assert.ok(soft.DeletionDate! > new Date());
    const marked = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: "soft" })),
    );
    assert.equal(marked.name, "InvalidRequestException");
    const described = await client.send(
      new DescribeSecretCommand({ SecretId: "soft" }),
    );
    assert.ok(described.DeletedDate instanceof Date);

    await client.send(
      new DeleteSecretCommand({
        SecretId: "hard",
        ForceDeleteWithoutRecovery: true,
      }),
    );
    const gone = await rejection(
      client.send(new DescribeSecretCommand({ SecretId: "hard" })),
    );
    assert.equal(gone.name, "ResourceNotFoundException");
    const both = await rejection(client.send(
      new DeleteSecretCommand({
        SecretId: "soft",
        ForceDeleteWithoutRecovery: true,
        RecoveryWindowInDays: 7,
      }),
    ));
    assert.equal(both.name, "InvalidParameterException");
  });
});

Deno.test("ListSecrets pages with NextToken and filters by name prefix", async () => {
  await withServer(async (server, client) => {
    for (const name of ["app/a", "app/b", "app/c", "other"]) {
      server.createSecret(name, "v");
    }
    const first = await client.send(new ListSecretsCommand({ MaxResults: 2 }));
    assert.deepEqual(first.SecretList!.map((s) => s.Name), ["app/a", "app/b"]);
    const second = await client.send(
      new ListSecretsCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );
    assert.deepEqual(second.SecretList!.map((s) => s.Name), ["app/c", "other"]);
    assert.equal(second.NextToken, undefined);
    const filtered = await client.send(
      new ListSecretsCommand({
        Filters: [{ Key: "name", Values: ["app/"] }],
      }),
    );
    assert.deepEqual(filtered.SecretList!.map((s) => s.Name), [
      "app/a",
      "app/b",
      "app/c",
    ]);
    assert.deepEqual(
      Object.values(filtered.SecretList![0].SecretVersionsToStages!),
      [["AWSCURRENT"]],
    );
  });
});

Deno.test("BatchGetSecretValue returns values and per-secret errors", async () => {
  await withServer(async (server, client) => {
    server.createSecret("a", "va");
    server.createSecret("b", "vb");
    const out = await client.send(
      new BatchGetSecretValueCommand({ SecretIdList: ["a", "missing", "b"] }),
    );
    assert.deepEqual(out.SecretValues!.map((v) => [v.Name, v.SecretString]), [[
      "a",
      "va",
    ], ["b", "vb"]]);
    assert.deepEqual(out.Errors!.map((e) => [e.SecretId, e.ErrorCode]), [[
      "missing",
      "ResourceNotFoundException",
    ]]);
    const filtered = await client.send(
      new BatchGetSecretValueCommand({
        Filters: [{ Key: "name", Values: ["b"] }],
      }),
    );
    assert.deepEqual(filtered.SecretValues!.map((v) => v.Name), ["b"]);
    const neither = await rejection(
      client.send(new BatchGetSecretValueCommand({})),
    );
    assert.equal(neither.name, "InvalidParameterException");
  });
});
