import assert from "node:assert/strict";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import {
  AssumeRoleCommand,
  type Credentials,
  GetCallerIdentityCommand,
} from "@aws-sdk/client-sts";
import { ManualClock } from "../support/manual_clock.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
  type TestCredentials,
} from "../support/secrets_manager_server.ts";
import {
  rejection,
  secretsManagerClient,
  ssmClient,
  stsClient,
  type TestClientOptions,
} from "../support/sdk_clients.ts";
import { signedFetch } from "../support/signed_request.ts";

const ROLE = "arn:aws:iam::210987654321:role/team/reader";

interface Fixture {
  server: SecretsManagerServer;
  clock: ManualClock;
  /** AssumeRole through a fresh STS client signed with `credentials`. */
  assume(
    input: {
      RoleArn: string;
      DurationSeconds?: number;
      RoleSessionName?: string;
    },
    credentials?: TestCredentials,
  ): Promise<Credentials>;
  /** Runs `fn` with a client built now, signing by the manual clock. */
  withClient<C extends { destroy(): void }, T>(
    make: (server: SecretsManagerServer, options: TestClientOptions) => C,
    credentials: TestCredentials,
    fn: (client: C) => Promise<T>,
  ): Promise<T>;
}

async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  // Whole seconds near real time: expirations are exact, skew stays small.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const server = await startSecretsManagerServer({ now: clock.now });
  const withClient: Fixture["withClient"] = async (make, credentials, use) => {
    const client = make(server, { credentials, now: clock.now });
    try {
      return await use(client);
    } finally {
      client.destroy();
    }
  };
  const assume: Fixture["assume"] = (input, credentials = TEST_CREDENTIALS) =>
    withClient(stsClient, credentials, async (client) => {
      const out = await client.send(
        new AssumeRoleCommand({ RoleSessionName: "agent-session", ...input }),
      );
      return out.Credentials!;
    });
  try {
    await fn({ server, clock, assume, withClient });
  } finally {
    await server.close();
  }
}

function temporary(credentials: Credentials): TestCredentials {
  return {
    accessKeyId: credentials.AccessKeyId!,
    secretAccessKey: credentials.SecretAccessKey!,
    sessionToken: credentials.SessionToken!,
  };
}

function getSecret(client: ReturnType<typeof secretsManagerClient>) {
  return client.send(new GetSecretValueCommand({ SecretId: "db" }));
}

Deno.test("AssumeRole through the STS client answers temporary credentials and the assumed-role user", async () => {
  await withFixture(async ({ server, clock, withClient }) => {
    const out = await withClient(
      stsClient,
      TEST_CREDENTIALS,
      (client) =>
        client.send(
          new AssumeRoleCommand({
            RoleArn: ROLE,
            RoleSessionName: "agent-session",
          }),
        ),
    );
    const { Credentials: credentials, AssumedRoleUser: user } = out;
    assert.match(credentials!.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(credentials!.SecretAccessKey!.length, 40);
    assert.ok(credentials!.SessionToken!.length > 100);
    assert.equal(credentials!.Expiration!.getTime(), clock.now() + 3600_000);
    assert.equal(
      user!.Arn,
      "arn:aws:sts::210987654321:assumed-role/reader/agent-session",
    );
    assert.match(user!.AssumedRoleId!, /^AROA[A-Z2-7]{17}:agent-session$/);
    assert.equal(server.countCalls("AssumeRole"), 1);
    assert.deepEqual(
      server.calls().map((c) => [c.service, c.operation, c.roleArn]),
      [["sts", "AssumeRole", undefined]],
    );
  });
});

Deno.test("the same role keeps its AssumedRoleId; each AssumeRole gets new keys", async () => {
  await withFixture(async ({ assume, server, withClient }) => {
    const users = [];
    for (const session of ["one-session", "two-session"]) {
      users.push(
        await withClient(stsClient, TEST_CREDENTIALS, (client) =>
          client.send(
            new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: session }),
          )),
      );
    }
    const [first, second] = users;
    assert.equal(
      first.AssumedRoleUser!.AssumedRoleId!.split(":")[0],
      second.AssumedRoleUser!.AssumedRoleId!.split(":")[0],
    );
    assert.notEqual(
      first.Credentials!.AccessKeyId,
      second.Credentials!.AccessKeyId,
    );
    const other = await assume({
      RoleArn: "arn:aws:iam::210987654321:role/writer",
    });
    assert.ok(other.AccessKeyId);
    assert.equal(server.countCalls("AssumeRole"), 3);
  });
});

Deno.test("assumed credentials sign Secrets Manager and SSM calls, and each call records the role", async () => {
  await withFixture(async ({ server, assume, withClient }) => {
    server.createSecret("db", "pw");
    server.putParameter("/app/db/password", "ssm-pw", { type: "SecureString" });
    const credentials = temporary(await assume({ RoleArn: ROLE }));
    server.resetCalls();
    const secret = await withClient(
      secretsManagerClient,
      credentials,
      getSecret,
    );
    assert.equal(secret.SecretString, "pw");
    const parameter = await withClient(
      ssmClient,
      credentials,
      (client) =>
        client.send(
          new GetParameterCommand({
            Name: "/app/db/password",
            WithDecryption: true,
          }),
        ),
    );
    assert.equal(parameter.Parameter?.Value, "ssm-pw");
    const plain = await withClient(
      secretsManagerClient,
      TEST_CREDENTIALS,
      getSecret,
    );
    assert.equal(plain.SecretString, "pw");
    assert.deepEqual(
      server.calls().map((c) => [c.operation, c.roleArn]),
      [
        ["GetSecretValue", ROLE],
        ["GetParameter", ROLE],
        ["GetSecretValue", undefined],
      ],
    );
  });
});

Deno.test("GetCallerIdentity with assumed credentials names the assumed role and its account", async () => {
  await withFixture(async ({ assume, withClient }) => {
    const credentials = temporary(await assume({ RoleArn: ROLE }));
    const out = await withClient(
      stsClient,
      credentials,
      (client) => client.send(new GetCallerIdentityCommand({})),
    );
    assert.equal(
      out.Arn,
      "arn:aws:sts::210987654321:assumed-role/reader/agent-session",
    );
    assert.equal(out.Account, "210987654321");
    assert.match(out.UserId!, /^AROA[A-Z2-7]{17}:agent-session$/);
  });
});

Deno.test("assumed keys without their session token, or with a wrong secret, are refused", async () => {
  await withFixture(async ({ server, assume, withClient }) => {
    server.createSecret("db", "pw");
    const credentials = temporary(await assume({ RoleArn: ROLE }));
    const noToken = await rejection(
      withClient(
        secretsManagerClient,
        { ...credentials, sessionToken: undefined },
        getSecret,
      ),
    );
    assert.equal(noToken.name, "UnrecognizedClientException");
    const wrongSecret = await rejection(
      withClient(
        secretsManagerClient,
        { ...credentials, secretAccessKey: "wrong" },
        getSecret,
      ),
    );
    assert.equal(wrongSecret.name, "InvalidSignatureException");
  });
});

Deno.test("a denied role is a 403 AccessDenied naming the caller and the role", async () => {
  await withFixture(async ({ server, assume }) => {
    server.denyRole(ROLE);
    const error = await rejection(assume({ RoleArn: ROLE }));
    assert.equal(error.name, "AccessDenied");
    assert.equal(
      error.message,
      `User: arn:aws:iam::123456789012:user/local-test is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
    assert.equal(error.$metadata?.httpStatusCode, 403);
    assert.equal(error.$fault, "client");
    // Chained from another role, the caller is that role's session.
    const hop = "arn:aws:iam::210987654321:role/hop";
    const chained = await rejection(
      assume({ RoleArn: ROLE }, temporary(await assume({ RoleArn: hop }))),
    );
    assert.equal(
      chained.message,
      `User: arn:aws:sts::210987654321:assumed-role/hop/agent-session is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
    assert.equal(server.countCalls("AssumeRole"), 3);
  });
});

Deno.test("a malformed role ARN is a 400 ValidationError", async () => {
  await withFixture(async ({ assume }) => {
    for (
      const arn of [
        "arn:aws:iam::12345:role/reader",
        "arn:aws:iam::123456789012:user/reader",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/bad name",
        "reader",
      ]
    ) {
      const error = await rejection(assume({ RoleArn: arn }));
      assert.equal(error.name, "ValidationError", arn);
      assert.equal(error.message, "Request ARN is invalid", arn);
      assert.equal(error.$metadata?.httpStatusCode, 400, arn);
    }
  });
});

Deno.test("DurationSeconds outside 900..43200 is a ValidationError; the bounds are accepted", async () => {
  await withFixture(async ({ clock, assume }) => {
    const short = await rejection(
      assume({ RoleArn: ROLE, DurationSeconds: 899 }),
    );
    assert.equal(short.name, "ValidationError");
    assert.equal(
      short.message,
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    const long = await rejection(
      assume({ RoleArn: ROLE, DurationSeconds: 43201 }),
    );
    assert.equal(
      long.message,
      "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    );
    for (const seconds of [900, 43200]) {
      const credentials = await assume({
        RoleArn: ROLE,
        DurationSeconds: seconds,
      });
      assert.equal(
        credentials.Expiration!.getTime(),
        clock.now() + seconds * 1000,
      );
    }
  });
});

Deno.test("a bad or missing RoleSessionName or RoleArn is a ValidationError", async () => {
  await withFixture(async ({ server, assume }) => {
    const spaced = await rejection(
      assume({ RoleArn: ROLE, RoleSessionName: "has space" }),
    );
    assert.equal(spaced.name, "ValidationError");
    assert.equal(
      spaced.message,
      "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
    const short = await rejection(
      assume({ RoleArn: ROLE, RoleSessionName: "x" }),
    );
    assert.match(
      short.message,
      /Member must have length greater than or equal to 2$/,
    );
    const missing = await signedFetch(
      server.url,
      TEST_CREDENTIALS,
      "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1",
      { contentType: "application/x-www-form-urlencoded", service: "sts" },
    );
    assert.equal(missing.status, 400);
    const xml = await missing.text();
    assert.match(xml, /<Code>ValidationError<\/Code>/);
    assert.match(
      xml,
      /<Message>1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null<\/Message>/,
    );
  });
});

Deno.test("assumed credentials work until their expiration, then are refused as expired", async () => {
  await withFixture(async ({ server, clock, assume, withClient }) => {
    server.createSecret("db", "pw");
    server.putParameter("/p", "v");
    const credentials = temporary(
      await assume({ RoleArn: ROLE, DurationSeconds: 900 }),
    );
    await clock.advance(899_999);
    const before = await withClient(
      secretsManagerClient,
      credentials,
      getSecret,
    );
    assert.equal(before.SecretString, "pw");
    await clock.advance(1);
    const secret = await rejection(
      withClient(secretsManagerClient, credentials, getSecret),
    );
    assert.equal(secret.name, "ExpiredTokenException");
    assert.equal(
      secret.message,
      "The security token included in the request is expired",
    );
    assert.equal(secret.$metadata?.httpStatusCode, 400);
    const parameter = await rejection(
      withClient(
        ssmClient,
        credentials,
        (client) => client.send(new GetParameterCommand({ Name: "/p" })),
      ),
    );
    assert.equal(parameter.name, "ExpiredTokenException");
    const sts = await rejection(
      withClient(
        stsClient,
        credentials,
        (client) => client.send(new GetCallerIdentityCommand({})),
      ),
    );
    assert.equal(sts.name, "ExpiredToken");
    assert.equal(sts.$metadata?.httpStatusCode, 400);
    // Long-term keys are not affected, and fresh credentials work again.
    const fresh = temporary(await assume({ RoleArn: ROLE }));
    const after = await withClient(secretsManagerClient, fresh, getSecret);
    assert.equal(after.SecretString, "pw");
    assert.deepEqual(
      server.calls().filter((c) => c.operation !== "AssumeRole").map((c) =>
        c.roleArn
      ),
      [ROLE, ROLE, ROLE, ROLE, ROLE],
    );
  });
});

Deno.test("a throttle fault on AssumeRole answers 400 Throttling and issues nothing", async () => {
  await withFixture(async ({ server, assume }) => {
    server.setFault({ kind: "throttle" }, {
      operations: ["AssumeRole"],
      times: 1,
    });
    const error = await rejection(assume({ RoleArn: ROLE }));
    assert.equal(error.name, "Throttling");
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.ok((await assume({ RoleArn: ROLE })).AccessKeyId);
    assert.deepEqual(server.calls().map((c) => c.fault), [
      "throttle",
      undefined,
    ]);
  });
});
