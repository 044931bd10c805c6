/**
 * `credentials_file_path` while the agent serves: the real agent process
 * against the local Secrets Manager, whose accepted key pairs prove which key
 * signed each call. The server does not record the signing key and cannot
 * revoke one, so "revoking" a key is restarting the server on the same port
 * with only the keys still valid: a 200 from a server that knows one key
 * proves that key signed.
 *
 * `ttl_seconds = 0`, so every request goes to Secrets Manager and asks the
 * credentials provider again.
 */

import assert from "node:assert/strict";
import { type RunningAgent, startAgent } from "../support/agent_process.ts";
import { secretPath } from "../support/agent_upstream.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  type TestCredentials,
} from "../support/secrets_manager_server.ts";

/** Same lengths as real keys, so an in-place rewrite keeps the file's size. */
const KEY_A: TestCredentials = {
  accessKeyId: "AKIAROTATIONKEYAAAAA",
  secretAccessKey: "rotation/secret/key/AAAAAAAAAAAAAAAAAAAA",
};
const KEY_B: TestCredentials = {
  accessKeyId: "AKIAROTATIONKEYBBBBB",
  secretAccessKey: "rotation/secret/key/BBBBBBBBBBBBBBBBBBBB",
};
const KEY_C: TestCredentials = {
  accessKeyId: "AKIAROTATIONKEYCCCCC",
  secretAccessKey: "rotation/secret/key/CCCCCCCCCCCCCCCCCCCC",
};
const ALL_KEYS = [KEY_A, KEY_B, KEY_C];

const CREDENTIALS_FILE = ".aws/credentials";
const SECRET_ID = "rotation/db";
const SECRET_VALUE = "rotation-secret-value";
const CONFIG = [
  "ttl_seconds = 0",
  `credentials_file_path = "${CREDENTIALS_FILE}"`,
].join("\n");
const RELOAD_DEADLINE_MS = 5_000;
const STACK_FRAME = /^ {4}at /m;
const DENO_PERMISSION_SET_NOTICE =
  "Warning Permissions in the config file is an experimental feature and may change in the future.";

function credentialsText(keys: TestCredentials): string {
  return `[default]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`;
}

/**
 * The local Secrets Manager on a fixed port, accepting only `keys`, that a
 * test restarts to revoke keys; each start seeds the one secret.
 */
class RestartableServer implements AsyncDisposable {
  #server: SecretsManagerServer;

  private constructor(server: SecretsManagerServer) {
    this.#server = server;
  }

  /** Starts the first server on a free port. */
  static async start(keys: readonly TestCredentials[]) {
    return new RestartableServer(await RestartableServer.#seeded(0, keys));
  }

  static async #seeded(port: number, keys: readonly TestCredentials[]) {
    const server = await startSecretsManagerServer({ port, credentials: keys });
    server.createSecret(SECRET_ID, SECRET_VALUE);
    return server;
  }

  get url(): string {
    return this.#server.url;
  }

  /** From now on only `keys` are valid (the agent's connections are cut). */
  async accept(keys: readonly TestCredentials[]): Promise<void> {
    const port = this.#server.port;
    await this.#server.close();
    this.#server = await RestartableServer.#seeded(port, keys);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.close();
  }
}

/** A running agent reading `.aws/credentials` (mode `mode`) of its folder. */
async function startRotatingAgent(
  server: RestartableServer,
  options: { keys?: TestCredentials; mode?: number },
): Promise<RunningAgent> {
  const agent = await startAgent({
    endpoint: server.url,
    config: CONFIG,
    // No key in the environment: the file is the only source.
    env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
    files: options.keys
      ? { [CREDENTIALS_FILE]: credentialsText(options.keys) }
      : {},
  });
  // The file is first read on the first request, so the mode set here is the one seen.
  if (options.keys) {
    await Deno.chmod(credentialsPath(agent), options.mode ?? 0o600);
  }
  return agent;
}

function credentialsPath(agent: RunningAgent): string {
  return `${agent.dir}/${CREDENTIALS_FILE}`;
}

/** Asserts that the agent answers /ping and serves the secret now. */
async function assertServes(agent: RunningAgent, step: string): Promise<void> {
  const ping = await agent.get("/ping", { token: null });
  assert.deepEqual([ping.status, ping.body], [200, "healthy"], step);
  const response = await agent.get(secretPath(SECRET_ID));
  assert.equal(response.status, 200, `${step}: ${response.body}`);
  assert.equal(JSON.parse(response.body).SecretString, SECRET_VALUE, step);
}

/** Requests the secret until it is served or the deadline passes; returns the last status. */
async function untilServed(agent: RunningAgent): Promise<number> {
  const deadline = Date.now() + RELOAD_DEADLINE_MS;
  for (;;) {
    const response = await agent.get(secretPath(SECRET_ID));
    if (response.status === 200 || Date.now() > deadline) {
      return response.status;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Requests the secret back to back while `change` runs; returns every status seen. */
async function statusesDuring(
  agent: RunningAgent,
  change: () => Promise<void>,
): Promise<number[]> {
  const statuses: number[] = [];
  let changing = true;
  const load = (async () => {
    // At least a few requests after the change, however quick it was.
    for (let after = 0; changing || after < 5; after += changing ? 0 : 1) {
      statuses.push((await agent.get(secretPath(SECRET_ID))).status);
    }
  })();
  try {
    await change();
  } finally {
    changing = false;
  }
  await load;
  return statuses;
}

/** Writes the file as rotation tools do: a temporary file renamed over it. */
async function replaceByRename(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text, { mode: 0o600 });
  await Deno.rename(`${path}.tmp`, path);
}

/** Rewrites the file where it is: truncated, then written (same inode). */
async function rewriteInPlace(path: string, text: string): Promise<void> {
  using file = await Deno.open(path, { write: true });
  await file.truncate(0);
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Stops the agent: it must still be running, then exit 0 with nothing of its own on stderr. */
async function stopAndCheckOutput(agent: RunningAgent): Promise<string> {
  const exit = await agent.stop("SIGTERM");
  const log = await agent.logText();
  const output = `${exit.stderr}\n${exit.stdout}\n${log}`;
  assert.equal(exit.code, 0, output);
  assert.doesNotMatch(output, STACK_FRAME);
  const ownLines = exit.stderr.split("\n").filter((line) =>
    line.trim() !== "" && line.trim() !== DENO_PERMISSION_SET_NOTICE
  );
  assert.deepEqual(ownLines, [], exit.stderr);
  for (const keys of ALL_KEYS) {
    assert.ok(
      !output.includes(keys.secretAccessKey),
      `a secret access key appears in the agent's output:\n${output}`,
    );
  }
  return log;
}

/** How many log lines match `pattern`. */
function countLines(log: string, pattern: RegExp): number {
  return log.split("\n").filter((line) => pattern.test(line)).length;
}

Deno.test("rotation: after an atomic rename, then an in-place rewrite, requests keep succeeding and are signed with the new key once the old one is revoked", async () => {
  await using server = await RestartableServer.start([KEY_A]);
  await using agent = await startRotatingAgent(server, { keys: KEY_A });
  const path = credentialsPath(agent);
  await assertServes(agent, "key A, the only key the server knows");

  // Rotation window: both keys valid while the file is replaced.
  await server.accept([KEY_A, KEY_B]);
  const duringRename = await statusesDuring(
    agent,
    () => replaceByRename(path, credentialsText(KEY_B)),
  );
  assert.ok(duringRename.every((status) => status === 200), `${duringRename}`);
  await server.accept([KEY_B]);
  assert.equal(await untilServed(agent), 200, "key A revoked after the rename");
  await assertServes(agent, "key B only");

  const { ino } = await Deno.stat(path);
  await server.accept([KEY_B, KEY_C]);
  const duringRewrite = await statusesDuring(
    agent,
    () => rewriteInPlace(path, credentialsText(KEY_C)),
  );
  assert.equal((await Deno.stat(path)).ino, ino, "the rewrite kept the inode");
  assert.ok(
    duringRewrite.every((status) => status === 200),
    `${duringRewrite}`,
  );
  await server.accept([KEY_C]);
  assert.equal(
    await untilServed(agent),
    200,
    "key B revoked after the rewrite",
  );
  await assertServes(agent, "key C only");

  const log = await stopAndCheckOutput(agent);
  assert.ok(countLines(log, / INFO Credentials file .* reloaded$/) >= 2, log);
  assert.doesNotMatch(log, /has mode/);
});

Deno.test("faults: with the file removed, garbage, or a directory, the agent keeps serving with the last good key and logs each problem once", async () => {
  // Only key A is valid throughout: every 200 below was signed with it.
  await using server = await RestartableServer.start([KEY_A]);
  await using agent = await startRotatingAgent(server, { keys: KEY_A });
  const path = credentialsPath(agent);
  await assertServes(agent, "the good file");

  await Deno.remove(path);
  for (let i = 0; i < 3; i++) {
    await assertServes(agent, `removed, request ${i}`);
  }

  const garbage = new Uint8Array(4096);
  crypto.getRandomValues(garbage);
  await Deno.writeFile(path, garbage, { mode: 0o600 });
  for (let i = 0; i < 3; i++) {
    await assertServes(agent, `garbage, request ${i}`);
  }

  await Deno.writeTextFile(path, "[default]\naws_access_key_id = AKIAHALF\n");
  await assertServes(agent, "a half-written file");

  // Running as root, a mode-000 file is still readable: a directory is not.
  await Deno.remove(path);
  await Deno.mkdir(path);
  for (let i = 0; i < 3; i++) {
    await assertServes(agent, `a directory, request ${i}`);
  }

  await Deno.remove(path);
  await replaceByRename(path, credentialsText(KEY_A));
  await assertServes(agent, "the good file back");

  const log = await stopAndCheckOutput(agent);
  const warned = (pattern: RegExp) =>
    countLines(log, new RegExp(` WARN Credentials file .*${pattern.source}`));
  assert.equal(warned(/does not exist/), 1, log);
  assert.equal(warned(/has no aws_access_key_id/), 1, log);
  assert.equal(warned(/directory/), 1, log);
  assert.doesNotMatch(log, /has mode/, "a directory is not a file with a mode");
  assert.equal(countLines(log, / ERROR /), 0, log);
});

Deno.test("mode: a file readable by others is served with a warning, also when chmod widens it while serving", async () => {
  await using server = await RestartableServer.start([KEY_A]);
  await using agent = await startRotatingAgent(server, {
    keys: KEY_A,
    mode: 0o644,
  });
  const path = credentialsPath(agent);
  await assertServes(agent, "mode 0644");

  await Deno.chmod(path, 0o600);
  await assertServes(agent, "mode 0600");
  await Deno.chmod(path, 0o640);
  await assertServes(agent, "mode 0640");

  const log = await stopAndCheckOutput(agent);
  const warnings = log.split("\n").filter((line) => / WARN .*mode/.test(line));
  assert.equal(warnings.length, 2, log);
  assert.match(
    warnings[0],
    /Credentials file \.aws\/credentials has mode 0644; restrict it to 0600$/,
  );
  assert.match(warnings[1], /has mode 0640; restrict it to 0600$/);
});

Deno.test("start-up: without the file, then with it empty or malformed, before any good load, the agent answers 500 InternalFailure, and serves once the file is good", async () => {
  await using server = await RestartableServer.start([KEY_A]);
  await using agent = await startRotatingAgent(server, {});
  const ping = await agent.get("/ping", { token: null });
  assert.equal(ping.status, 200);
  const assertRefused = async (state: string) => {
    const refused = await agent.get(secretPath(SECRET_ID));
    assert.equal(refused.status, 500, `${state}: ${refused.body}`);
    assert.equal(JSON.parse(refused.body).__type, "InternalFailure", state);
    assert.doesNotMatch(refused.body, new RegExp(SECRET_VALUE));
  };
  await assertRefused("no file");

  await Deno.mkdir(`${agent.dir}/.aws`);
  await replaceByRename(credentialsPath(agent), "");
  await assertRefused("an empty file");
  await replaceByRename(
    credentialsPath(agent),
    "[default\naws_access_key_id\n\u0000\u00ff garbage\n",
  );
  await assertRefused("a malformed file");

  await replaceByRename(credentialsPath(agent), credentialsText(KEY_A));
  assert.equal(await untilServed(agent), 200);
  await assertServes(agent, "the file written after start");

  const log = await stopAndCheckOutput(agent);
  assert.match(log, / WARN Credentials file .* does not exist$/m);
});

Deno.test("credentials_file_temporary_only: long-term keys are refused on the request and in the log; session credentials are served", async () => {
  const session: TestCredentials = {
    ...KEY_B,
    sessionToken: "session/token/B",
  };
  await using server = await RestartableServer.start([KEY_A, session]);
  await using agent = await startAgent({
    endpoint: server.url,
    config: `${CONFIG}\ncredentials_file_temporary_only = true`,
    env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
    files: { [CREDENTIALS_FILE]: credentialsText(KEY_A) },
  });
  await Deno.chmod(credentialsPath(agent), 0o600);
  const refused = await agent.get(secretPath(SECRET_ID));
  assert.equal(refused.status, 500, refused.body);
  assert.deepEqual(JSON.parse(refused.body), {
    __type: "InternalFailure",
    message:
      "No usable credentials in .aws/credentials: profile [default] holds long-term keys (no aws_session_token), refused: credentials_file_temporary_only accepts only temporary credentials",
  });
  assert.doesNotMatch(refused.body, new RegExp(KEY_A.secretAccessKey));
  await replaceByRename(
    credentialsPath(agent),
    `${credentialsText(session)}aws_session_token = ${session.sessionToken}\n`,
  );
  assert.equal(await untilServed(agent), 200, "session credentials");
  const log = await agent.logText();
  assert.match(
    log,
    /WARN Credentials file \.aws\/credentials: profile \[default\] holds long-term keys \(no aws_session_token\), refused/,
  );
  assert.doesNotMatch(log, new RegExp(KEY_A.secretAccessKey));
});
