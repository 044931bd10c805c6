/**
 * SIGHUP, end to end: the agent re-reads its configuration file and its
 * token while it keeps serving; a bad new file or token is refused
 * with a log line and the running settings kept; keys that need a restart
 * are named and keep their running values.
 */

import assert from "node:assert/strict";
import {
  AGENT_TOKEN,
  type AgentLaunch,
  type RunningAgent,
  startAgent,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import { tokenFileLaunch } from "../support/token_file_launch.ts";
import { RawConnection, requestHead } from "../support/raw_http.ts";

const NEW_TOKEN = "rotated-token-7d2b9c41e0";
const SECRET = "/v1/reload%2Fdb";

/** What a test gets: the agent, the server, and a SIGHUP after an edit of config.toml. */
interface Reloading {
  readonly agent: RunningAgent;
  readonly server: SecretsManagerServer;
  /** Rewrites config.toml with `edit`, sends SIGHUP, and waits for the log line matching `logged`. */
  reload(edit: (text: string) => string, logged: RegExp): Promise<string>;
}

function withAgent(
  fn: (test: Reloading) => Promise<void>,
  launch: Omit<AgentLaunch, "endpoint"> = {},
): Promise<void> {
  return withSecretsManagerServer(async (server) => {
    server.createSecret("reload/db", "kept-across-reload");
    await using agent = await startAgent({ endpoint: server.url, ...launch });
    const config = `${agent.dir}/config.toml`;
    await fn({
      agent,
      server,
      async reload(edit, logged) {
        await Deno.writeTextFile(config, edit(await Deno.readTextFile(config)));
        agent.signal("SIGHUP");
        return await waitForLog(agent, logged);
      },
    });
  });
}

async function waitForLog(
  agent: RunningAgent,
  pattern: RegExp,
): Promise<string> {
  let text = "";
  for (let i = 0; i < 100; i++) {
    text = await agent.logText();
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`log never matched ${pattern}:\n${text}`);
}

Deno.test("SIGHUP applies new headers and log level on open connections, keeping the cache", () =>
  withAgent(async ({ agent, server, reload }) => {
    // A keep-alive connection opened before the reload, used after it.
    using connection = await RawConnection.open(agent.port);
    const ask = (header: string) =>
      requestHead(`GET ${SECRET} HTTP/1.1`, [
        "Host: 127.0.0.1",
        `${header}: ${AGENT_TOKEN}`,
      ]);
    await connection.write(ask("X-Aws-Parameters-Secrets-Token"));
    const first = await connection.read({ responses: 1 });
    assert.equal(first.responses[0].status, 200);
    await reload(
      (text) =>
        `${text}\nssrf_headers = ["X-Vault-Token"]\nlog_level = "warn"\nmax_conn = 5\n`,
      /SIGHUP: configuration .* reloaded/,
    );
    await connection.write(ask("X-Vault-Token"));
    const after = await connection.read({ responses: 2 });
    assert.equal(after.isClosed, false);
    assert.equal(after.responses[1].status, 200, "same connection, new header");
    // The old header no longer works; the entry is still cached.
    assert.equal((await agent.get(SECRET)).status, 403);
    assert.equal(server.countCalls("GetSecretValue"), 1);
    // WARN: request lines (INFO) are no longer written.
    const before = await agent.logText();
    const viaVault = await agent.get(SECRET, {
      token: null,
      headers: { "X-Vault-Token": AGENT_TOKEN },
    });
    assert.equal(viaVault.status, 200);
    assert.equal(await agent.logText(), before);
  }));

Deno.test("SIGHUP with a bad file keeps everything running as it was, and says why", () =>
  withAgent(async ({ agent, reload }) => {
    await reload(
      (text) => `${text}\nmax_conn = 0\n`,
      /ERROR SIGHUP: reload refused, the running configuration is kept: The maximum number of connections specified in the configuration file isn't valid\./,
    );
    await reload(
      () => "http_port = [",
      /ERROR SIGHUP: reload refused, the running configuration is kept: Invalid TOML in configuration file config\.toml at line 1/,
    );
    assert.equal((await agent.get(SECRET)).status, 200);
  }));

Deno.test("SIGHUP names the keys that need a restart and keeps their running values", () =>
  withAgent(async ({ agent, reload }) => {
    const log = await reload(
      (text) =>
        text.replace(/http_port = \d+/, "http_port = 2999") +
        '\nttl_seconds = 5\npath_prefix = "/secrets/"\n',
      /SIGHUP: configuration .* reloaded; needs a restart to change, kept as running: http_port, ttl_seconds/,
    );
    assert.doesNotMatch(log, /path_prefix/);
    // Still on its port; the new path prefix is live, the old one gone.
    assert.equal((await agent.get("/secrets/reload%2Fdb")).status, 200);
    assert.equal((await agent.get(SECRET)).status, 404);
  }));

const tokenFile = tokenFileLaunch(AGENT_TOKEN);

Deno.test("SIGHUP re-reads a token file: the new token works, the old one no longer does, neither is logged", () =>
  withAgent(async ({ agent, reload }) => {
    const [path] = Object.keys(tokenFile.files);
    assert.equal((await agent.get(SECRET)).status, 200);
    await Deno.writeTextFile(`${agent.dir}/${path}`, `${NEW_TOKEN}\n`);
    const log = await reload((text) => text, /SIGHUP: configuration/);
    assert.equal((await agent.get(SECRET)).status, 403);
    assert.equal((await agent.get(SECRET, { token: NEW_TOKEN })).status, 200);
    assert.ok(!log.includes(NEW_TOKEN) && !log.includes(AGENT_TOKEN));
  }, tokenFile));

Deno.test("SIGHUP with a token file that became unusable keeps the running token, and says why", () =>
  withAgent(async ({ agent, reload }) => {
    const [path] = Object.keys(tokenFile.files);
    await Deno.writeTextFile(`${agent.dir}/${path}`, "");
    await reload(
      (text) => text,
      /ERROR SIGHUP: reload refused, the running configuration is kept: .*token/i,
    );
    assert.equal((await agent.get(SECRET)).status, 200, "the old token works");
  }, tokenFile));
