import assert from "node:assert/strict";
import { parse } from "smol-toml";
import {
  cacheDir,
  copyProject,
  freePort,
  startTaskCommand,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import {
  FakeLambdaApi,
  invokeEvent,
  shutdownEvent,
} from "../support/fake_lambda_api.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";

const EXTENSION_DIR =
  new URL("../../install/lambda/", import.meta.url).pathname;
const EXTENSION = `${EXTENSION_DIR}secrets-manager-agent-extension.sh`;
const PACKAGE = `${EXTENSION_DIR}package`;
const LAYER_CONFIG = `${EXTENSION_DIR}config.toml`;

/** Lambda sets it: the SDK's session token and, here, the SSRF token. */
const SESSION_TOKEN = "lambda-session-token-6c1e09";
const SECRET_NAME = "lambda/db";
const SECRET_VALUE = "lambda-secret-value-2f7d81";

/**
 * The real agent, as `deno task start` runs it: the start task's words (the
 * start script, which computes the grants for the config it is given and the
 * environment, then runs the agent under them), split on blanks by the
 * extension, which runs them in SECRETS_MANAGER_AGENT_WORKDIR, a project copy.
 */
const AGENT_COMMAND = (await startTaskCommand()).join(" ");

/** The start script runs `deno` from PATH: this Deno's folder comes first. */
const DENO_FOLDER = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));

/**
 * A project copy for the real agent with the Lambda layer's config plus
 * `http_port`, and a local Secrets Manager accepting Lambda-style session
 * credentials.
 */
interface AgentFolder {
  readonly dir: string;
  readonly config: string;
  readonly port: number;
  readonly upstream: SecretsManagerServer;
  /** The variables Lambda would give the function's extensions. */
  readonly env: Record<string, string>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function prepareAgent(): Promise<AgentFolder> {
  const upstream = await startSecretsManagerServer({
    credentials: [{ ...TEST_CREDENTIALS, sessionToken: SESSION_TOKEN }],
  });
  const dir = await copyProject({ prefix: "agent-lambda-" });
  const port = freePort();
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `http_port = ${port}\n${await Deno.readTextFile(LAYER_CONFIG)}`,
  );
  upstream.createSecret(SECRET_NAME, SECRET_VALUE);
  return {
    dir,
    config,
    port,
    upstream,
    env: {
      DENO_DIR: await cacheDir(),
      NO_COLOR: "1",
      HOME: dir,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: SESSION_TOKEN,
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: upstream.url,
      AWS_ENDPOINT_URL_STS: upstream.url,
    },
    async [Symbol.asyncDispose]() {
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function isPortOpen(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

async function ping(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/ping`);
  return await response.text();
}

async function writeConfig(dir: string, port: number): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(path, `http_port = ${port}\nlog_to_file = false\n`);
  return path;
}

interface RunOptions {
  api?: FakeLambdaApi;
  agentCommand?: string;
  config?: string;
  workdir: string;
  env?: Record<string, string>;
}

function startExtension(options: RunOptions): Deno.ChildProcess {
  const env: Record<string, string> = {
    PATH: `${DENO_FOLDER}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    HOME: Deno.env.get("HOME") ?? "/root",
    AWS_SESSION_TOKEN: SESSION_TOKEN,
    SECRETS_MANAGER_AGENT_CMD: options.agentCommand ?? AGENT_COMMAND,
    SECRETS_MANAGER_AGENT_WORKDIR: options.workdir,
    SECRETS_MANAGER_AGENT_START_TIMEOUT_SECONDS: "30",
    ...options.env,
  };
  if (options.api) env.AWS_LAMBDA_RUNTIME_API = options.api.address;
  if (options.config) env.SECRETS_MANAGER_AGENT_CONFIG = options.config;
  return new Deno.Command("bash", {
    args: [EXTENSION],
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

Deno.test("extension registers, starts the real agent on the first INVOKE only, serves a secret through it with the session token, and stops it on SHUTDOWN", async () => {
  await using agent = await prepareAgent();
  const api = new FakeLambdaApi();
  try {
    const { port } = agent;
    const child = startExtension({
      api,
      config: agent.config,
      workdir: agent.dir,
      env: agent.env,
    });
    const finished = child.output();

    await api.nextRequested(1);
    assert.deepEqual(api.registrations, [{
      name: "secrets-manager-agent-extension.sh",
      body: { events: ["INVOKE", "SHUTDOWN"] },
    }]);
    assert.equal(await isPortOpen(port), false, "agent started during INIT");
    assert.equal(agent.upstream.calls().length, 0, "AWS called during INIT");

    api.pushEvent(invokeEvent("request-1"));
    await api.nextRequested(2);
    // The script asks for the next event only once the agent answers.
    assert.equal(await ping(port), "healthy");
    const response = await fetch(
      `http://127.0.0.1:${port}/secretsmanager/get?secretId=${
        encodeURIComponent(SECRET_NAME)
      }`,
      { headers: { [TOKEN_HEADER]: SESSION_TOKEN } },
    );
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.Name, SECRET_NAME);
    assert.equal(body.SecretString, SECRET_VALUE);
    assert.equal(agent.upstream.countCalls("GetSecretValue"), 1);

    api.pushEvent(invokeEvent("request-2"));
    await api.nextRequested(3);
    assert.equal(await ping(port), "healthy");

    api.pushEvent(shutdownEvent());
    const { code, stdout, stderr } = await finished;
    assert.equal(code, 0, text(stderr));
    assert.equal(await isPortOpen(port), false, "agent still running");
    assert.equal(
      text(stdout).match(/starting the Secrets Manager Agent/g)?.length,
      1,
    );
    assert.deepEqual(api.exitErrors, []);
  } finally {
    await api.close();
  }
});

Deno.test("extension gives up after the start timeout when nothing answers on SECRETS_MANAGER_AGENT_PORT, and stops the agent", async () => {
  await using agent = await prepareAgent();
  const api = new FakeLambdaApi();
  try {
    const otherPort = freePort();
    const child = startExtension({
      api,
      config: agent.config,
      workdir: agent.dir,
      env: {
        ...agent.env,
        SECRETS_MANAGER_AGENT_PORT: String(otherPort),
        SECRETS_MANAGER_AGENT_START_TIMEOUT_SECONDS: "2",
      },
    });
    api.pushEvent(invokeEvent("request-1"));
    const { code, stderr } = await child.output();

    assert.equal(code, 1);
    assert.match(
      text(stderr),
      new RegExp(`did not answer http://127\\.0\\.0\\.1:${otherPort}/ping`),
    );
    assert.equal(api.exitErrors[0]?.errorType, "Extension.AgentStartTimeout");
    assert.equal(await isPortOpen(agent.port), false, "agent left running");
  } finally {
    await api.close();
  }
});

Deno.test("extension reports an agent that exits before answering and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  const api = new FakeLambdaApi();
  try {
    const child = startExtension({
      api,
      agentCommand: "false",
      config: await writeConfig(dir, freePort()),
      workdir: dir,
    });
    api.pushEvent(invokeEvent("request-1"));
    const { code, stderr } = await child.output();

    assert.equal(code, 1);
    assert.match(text(stderr), /the agent exited with status 1/);
    assert.equal(api.exitErrors.length, 1);
    assert.equal(api.exitErrors[0].errorType, "Extension.AgentExited");
    assert.equal(
      JSON.parse(api.exitErrors[0].body).errorType,
      "Extension.AgentExited",
    );
  } finally {
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extension stops the agent and exits 0 on SIGTERM", async () => {
  await using agent = await prepareAgent();
  const api = new FakeLambdaApi();
  try {
    const child = startExtension({
      api,
      config: agent.config,
      workdir: agent.dir,
      env: agent.env,
    });
    api.pushEvent(invokeEvent("request-1"));
    await api.nextRequested(2);
    assert.equal(await ping(agent.port), "healthy");

    child.kill("SIGTERM");
    const { code, stderr } = await child.output();
    assert.equal(code, 0, text(stderr));
    assert.equal(await isPortOpen(agent.port), false, "agent still running");
  } finally {
    await api.close();
  }
});

Deno.test("extension refuses to run without AWS_LAMBDA_RUNTIME_API", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await startExtension({ workdir: dir }).output();
    assert.equal(code, 1);
    assert.match(text(stderr), /AWS_LAMBDA_RUNTIME_API is not set/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function zipListing(zip: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command("python3", {
    args: [
      "-c",
      "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(oct((i.external_attr >> 16) & 0o7777), i.filename)",
      zip,
    ],
  }).output();
  assert.equal(code, 0, text(stderr));
  return text(stdout).trim().split("\n").sort();
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("bash", { args: ["-c", `command -v ${name}`] })
      .outputSync().success;
  } catch {
    return false;
  }
}

for (const archiver of ["zip", "python3"]) {
  const missing = !hasCommand(archiver) || !hasCommand("python3");
  if (missing) {
    console.log(
      `skipping the ${archiver} package test: ${archiver} or python3 is not installed`,
    );
  }
  Deno.test({
    name:
      `package builds the layer zip with ${archiver}: extension, binary and config at their Lambda paths with their modes`,
    ignore: missing,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const binary = `${dir}/aws_secretsmanager_agent`;
        await Deno.writeTextFile(binary, "fake agent binary");
        const zip = `${dir}/layer.zip`;
        const { code, stderr } = await new Deno.Command("bash", {
          args: [PACKAGE, "--binary", binary, "--output", zip],
          env: { PACKAGE_ARCHIVER: archiver },
        }).output();
        assert.equal(code, 0, text(stderr));
        assert.deepEqual(
          (await zipListing(zip)).filter((line) => !line.endsWith("/")),
          [
            "0o644 aws/secretsmanageragent/config.toml",
            "0o755 bin/secrets-manager-agent",
            "0o755 extensions/secrets-manager-agent-extension.sh",
          ],
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("package rejects a missing binary and unknown arguments", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [args, message] of [
        [["--binary", `${dir}/absent`], /cannot read the agent binary/],
        [["--bogus"], /unknown argument: --bogus/],
        [[], /--binary is required/],
        [["--binary"], /--binary needs a value/],
      ] as const
    ) {
      const { code, stderr } = await new Deno.Command("bash", {
        args: [PACKAGE, ...args],
        cwd: dir,
      }).output();
      assert.equal(code, 1);
      assert.match(text(stderr), message);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lambda layer config parses and turns file logging off", async () => {
  const config = parse(
    await Deno.readTextFile(`${EXTENSION_DIR}config.toml`),
  );
  assert.deepEqual({ ...config }, { log_to_file: false });
});
