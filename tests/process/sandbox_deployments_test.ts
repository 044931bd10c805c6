/**
 * Setups of people switching from the original agent, each run as a user
 * with a home folder of its own (not /root) and no edit to deno.json: the
 * start script computes the grants each needs, and the agent serves a
 * secret from the local Secrets Manager.
 */

import assert from "node:assert/strict";
import {
  freePort,
  runMainWithFlags,
  startAgent,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  TEST_CREDENTIALS,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";

const SECRET = "deployments/db";
const VALUE = "deployment-secret-value-8d31";
const KEYS =
  `aws_access_key_id = ${TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${TEST_CREDENTIALS.secretAccessKey}\n`;

/** One setup: files written under the home folder (and elsewhere), the environment, the config. */
interface Setup {
  readonly name: string;
  /** Files by path relative to the home folder; `@other/` is another folder outside the project and home. */
  readonly files: Readonly<Record<string, string>>;
  /** Variables added; `@home` and `@other` in values name the folders. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly config?: string;
  /** Put the config file at `@other/agent.toml` and pass its absolute path. */
  readonly configElsewhere?: boolean;
  /** The token header value the client sends; default the harness's token. */
  readonly token?: string;
}

const NO_ENV_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_REGION: undefined,
};

const SETUPS: readonly Setup[] = [
  {
    name: "keys and region in ~/.aws/credentials and ~/.aws/config",
    files: {
      ".aws/credentials": `[default]\n${KEYS}`,
      ".aws/config": "[default]\nregion = us-east-1\n",
    },
    env: NO_ENV_CREDENTIALS,
  },
  {
    name: "AWS_PROFILE naming another profile",
    files: {
      ".aws/credentials":
        `[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n[other]\n${KEYS}`,
      ".aws/config": "[profile other]\nregion = us-east-1\n",
    },
    env: { ...NO_ENV_CREDENTIALS, AWS_PROFILE: "other" },
  },
  {
    name: "AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE pointing elsewhere",
    files: {
      "@other/creds": `[default]\n${KEYS}`,
      "@other/conf": "[default]\nregion = us-east-1\n",
    },
    env: {
      ...NO_ENV_CREDENTIALS,
      AWS_SHARED_CREDENTIALS_FILE: "@other/creds",
      AWS_CONFIG_FILE: "@other/conf",
    },
  },
  {
    name: "a token file in the home folder",
    files: { "token": "home-token-5e2b\n" },
    env: { AWS_TOKEN: "file://@home/token" },
    token: "home-token-5e2b",
  },
  {
    name: 'ssrf_env_variables = ["MY_TOKEN"]',
    files: {},
    env: { AWS_TOKEN: undefined, MY_TOKEN: "my-token-77ac" },
    config: 'ssrf_env_variables = ["MY_TOKEN"]\n',
    token: "my-token-77ac",
  },
  {
    name: "--config at an absolute path elsewhere",
    files: {},
    config: "ttl_seconds = 60\n",
    configElsewhere: true,
  },
  {
    name: "a credential_process profile",
    files: {
      "bin/creds":
        `#!/bin/sh\necho '{"Version": 1, "AccessKeyId": "${TEST_CREDENTIALS.accessKeyId}", "SecretAccessKey": "${TEST_CREDENTIALS.secretAccessKey}"}'\n`,
      ".aws/config":
        "[default]\nregion = us-east-1\ncredential_process = @home/bin/creds --format json\n",
    },
    env: NO_ENV_CREDENTIALS,
  },
];

async function writeAll(
  files: Readonly<Record<string, string>>,
  folders: { home: string; other: string },
): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const path = name.startsWith("@other/")
      ? `${folders.other}/${name.slice("@other/".length)}`
      : `${folders.home}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, fill(text, folders), {
      mode: name.startsWith("bin/") ? 0o755 : 0o600,
    });
  }
}

function fill(text: string, folders: { home: string; other: string }): string {
  return text.replaceAll("@home", folders.home).replaceAll(
    "@other",
    folders.other,
  );
}

async function serveOnce(server: SecretsManagerServer, setup: Setup) {
  const home = await Deno.makeTempDir({ prefix: "agent-home-" });
  const other = await Deno.makeTempDir({ prefix: "agent-elsewhere-" });
  try {
    const folders = { home, other };
    await writeAll(setup.files, folders);
    const env = Object.fromEntries(
      Object.entries({ HOME: home, ...setup.env }).map((
        [name, value],
      ) => [name, value === undefined ? undefined : fill(value, folders)]),
    );
    let args: string[] | undefined;
    const port = freePort();
    if (setup.configElsewhere) {
      await Deno.writeTextFile(
        `${other}/agent.toml`,
        `http_port = ${port}\n${setup.config ?? ""}`,
      );
      args = ["--config", `${other}/agent.toml`];
    }
    await using agent = await startAgent({
      endpoint: server.url,
      config: setup.configElsewhere ? undefined : setup.config,
      args,
      port,
      env,
      viaStartScript: true,
    });
    return await agent.get(
      `/secretsmanager/get?secretId=${encodeURIComponent(SECRET)}`,
      { token: setup.token },
    );
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
}

Deno.test("each setup of a user with a home folder of its own serves a secret without any edit to deno.json", async (t) => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret(SECRET, VALUE);
    for (const setup of SETUPS) {
      await t.step(setup.name, async () => {
        const answer = await serveOnce(server, setup);
        assert.equal(answer.status, 200, answer.body);
        assert.equal(JSON.parse(answer.body).SecretString, VALUE);
      });
    }
  });
});

Deno.test("credentials in a file the sandbox does not grant stop the agent with the file and the flag, never 'Could not load credentials from any providers'", async () => {
  const home = await Deno.makeTempDir({ prefix: "agent-home-" });
  try {
    await writeAll({ ".aws/credentials": `[default]\n${KEYS}` }, {
      home,
      other: home,
    });
    // Grants other than the computed ones, which would name ~/.aws.
    const exit = await runMainWithFlags(
      [
        "--allow-env",
        "--allow-sys=osRelease",
        "--allow-net=127.0.0.1",
        "--allow-read=./logs",
        "--allow-write=./logs",
      ],
      { env: { ...NO_ENV_CREDENTIALS, AWS_REGION: "us-east-1", HOME: home } },
    );
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(
      exit.stderr,
      new RegExp(
        `Permission denied by the sandbox: the AWS credential chain cannot read ${home}/\\.aws/credentials \\(--allow-read=${home}/\\.aws/credentials; `,
      ),
    );
    assert.doesNotMatch(exit.stderr, /from any providers/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
