/**
 * SIGHUP, end to end: the agent re-reads its configuration file and its
 * token while it keeps serving; a bad new file or token is refused
 * with a log line and the running settings kept; keys that need a restart
 * are named and keep their running values.
 */

import assert from "node:assert/strict";
import { AGENT_TOKEN, startAgent } from "./support/agent_process.ts";
import { startSecretsManagerServer } from "./support/secrets_manager_server.ts";
import { tokenFileLaunch } from "./support/token_file_launch.ts";
import { RawConnection, requestHead } from "./support/raw_http.ts";

const NEW_TOKEN = "rotated-token-7d2b9c41e0";

async function waitForLog(
  logText: () => Promise<string>,
  pattern: RegExp,
): Promise<string> {
  let text = "";
  for (let i = 0; i < 100; i++) {
    text = await logText();
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`log never matched ${pattern}:\n${text}`);
}

Deno.test("SIGHUP applies new headers, limit and log level, keeping the cache", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("reload/db", "kept-across-reload");
    await using agent = await startAgent({ endpoint: server.url });
    // A keep-alive connection opened before the reload, used after it.
    using connection = await RawConnection.open(agent.port);
    const ask = (header: string) =>
      requestHead("GET /v1/reload%2Fdb HTTP/1.1", [
        "Host: 127.0.0.1",
        `${header}: ${AGENT_TOKEN}`,
      ]);
    await connection.write(ask("X-Aws-Parameters-Secrets-Token"));
    assert.equal(
      (await connection.read({ responses: 1 })).responses[0].status,
      200,
    );
    const config = `${agent.dir}/config.toml`;
    const original = await Deno.readTextFile(config);
    await Deno.writeTextFile(
      config,
      `${original}\nssrf_headers = ["X-Vault-Token"]\nlog_level = "warn"\nmax_conn = 5\n`,
    );
    agent.signal("SIGHUP");
    await waitForLog(
      () => agent.logText(),
      /SIGHUP: configuration .* reloaded/,
    );
    await connection.write(ask("X-Vault-Token"));
    const after = await connection.read({ responses: 2 });
    assert.equal(after.isClosed, false);
    assert.equal(after.responses[1].status, 200, "same connection, new header");
    // The old header no longer works; the new one does; the entry is still cached.
    assert.equal((await agent.get("/v1/reload/db")).status, 403);
    const viaVault = await agent.get("/v1/reload/db", {
      token: null,
      headers: { "X-Vault-Token": AGENT_TOKEN },
    });
    assert.equal(viaVault.status, 200);
    assert.equal(server.countCalls("GetSecretValue"), 1);
    // WARN: request lines (INFO) are no longer written.
    const before = await agent.logText();
    await agent.get("/v1/reload/db", {
      token: null,
      headers: { "X-Vault-Token": AGENT_TOKEN },
    });
    assert.equal(await agent.logText(), before);
  } finally {
    await server.close();
  }
});

Deno.test("SIGHUP with a bad file keeps everything running as it was, and says why", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("reload/db", "v");
    await using agent = await startAgent({ endpoint: server.url });
    const config = `${agent.dir}/config.toml`;
    const original = await Deno.readTextFile(config);
    await Deno.writeTextFile(config, `${original}\nmax_conn = 0\n`);
    agent.signal("SIGHUP");
    await waitForLog(
      () => agent.logText(),
      /ERROR SIGHUP: reload refused, the running configuration is kept: The maximum number of connections specified in the configuration file isn't valid\./,
    );
    await Deno.writeTextFile(config, "http_port = [");
    agent.signal("SIGHUP");
    await waitForLog(
      () => agent.logText(),
      /ERROR SIGHUP: reload refused, the running configuration is kept: Invalid TOML in configuration file config\.toml at line 1/,
    );
    const response = await agent.get("/v1/reload/db");
    assert.equal(response.status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("SIGHUP names the keys that need a restart and keeps their running values", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("reload/db", "v");
    await using agent = await startAgent({ endpoint: server.url });
    const config = `${agent.dir}/config.toml`;
    const original = await Deno.readTextFile(config);
    await Deno.writeTextFile(
      config,
      original.replace(/http_port = \d+/, "http_port = 2999") +
        '\nttl_seconds = 5\npath_prefix = "/secrets/"\n',
    );
    agent.signal("SIGHUP");
    const log = await waitForLog(
      () => agent.logText(),
      /SIGHUP: configuration .* reloaded; needs a restart to change, kept as running: http_port, ttl_seconds/,
    );
    assert.doesNotMatch(log, /path_prefix/);
    // Still on its port; the new path prefix is live, the old one gone.
    assert.equal((await agent.get("/secrets/reload%2Fdb")).status, 200);
    assert.equal((await agent.get("/v1/reload%2Fdb")).status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("SIGHUP re-reads a token file: the new token works, the old one no longer does, neither is logged", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("reload/db", "v");
    const launch = tokenFileLaunch(AGENT_TOKEN);
    await using agent = await startAgent({ endpoint: server.url, ...launch });
    const [tokenFile] = Object.keys(launch.files);
    assert.equal((await agent.get("/v1/reload%2Fdb")).status, 200);
    await Deno.writeTextFile(`${agent.dir}/${tokenFile}`, `${NEW_TOKEN}\n`);
    agent.signal("SIGHUP");
    await waitForLog(() => agent.logText(), /SIGHUP: configuration/);
    assert.equal((await agent.get("/v1/reload%2Fdb")).status, 403);
    assert.equal(
      (await agent.get("/v1/reload%2Fdb", { token: NEW_TOKEN })).status,
      200,
    );
    const log = await agent.logText();
    assert.ok(!log.includes(NEW_TOKEN) && !log.includes(AGENT_TOKEN));
  } finally {
    await server.close();
  }
});
