/**
 * The real agent process at start-up and at stop: every way it can fail to
 * start is one clear line on stderr (no stack trace) and exit 1; a clean start
 * validates credentials as configured; SIGTERM / SIGINT finish requests in
 * flight and exit 0.
 */

import assert from "node:assert/strict";
import {
  type AgentExit,
  type AgentLaunch,
  agentLines,
  freePort,
  runAgentToExit,
  runMainWithFlags,
  type RunningAgent,
  startAgent,
} from "../support/agent_process.ts";
import {
  type FolderLaunch,
  runAgentToExitInFolder,
} from "../support/agent_in_folder.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import { VERSION } from "../../src/version.ts";

const USAGE = /^Usage: \S+ \[--config <file>\]$/;
const STACK_FRAME = /^ {4}at /m;
const IS_ROOT = Deno.uid() === 0;
const WRONG_SECRET_KEY = "wrong/secret/access/key/EXAMPLEKEY000000";
const STS = "GetCallerIdentity";

/** Asserts the exit code, no stack trace, and exactly the expected lines. */
function assertExit(
  exit: AgentExit,
  expected: readonly (string | RegExp)[],
  code = 1,
): void {
  const output = `stderr: ${exit.stderr}\nstdout: ${exit.stdout}`;
  assert.equal(exit.code, code, output);
  assert.doesNotMatch(exit.stderr, STACK_FRAME, output);
  const lines = agentLines(exit.stderr);
  assert.equal(lines.length, expected.length, output);
  expected.forEach((line, i) => {
    if (typeof line === "string") assert.equal(lines[i], line, output);
    else assert.match(lines[i], line, output);
  });
}

/** One start-up failure: how to launch and the stderr lines it must print. */
interface ExitCase {
  readonly name: string;
  readonly run: () => Promise<AgentExit>;
  readonly lines: readonly (string | RegExp)[];
  readonly code?: number;
  /** Further checks on the exit. */
  readonly check?: (exit: AgentExit) => void;
}

function launched(launch: AgentLaunch): () => Promise<AgentExit> {
  return () => runAgentToExit(launch);
}

function inFolder(
  prepare: (dir: string) => Promise<FolderLaunch> | FolderLaunch,
): () => Promise<AgentExit> {
  return () => runAgentToExitInFolder(prepare);
}

/** Runs every case at once; reports each failing case by name. */
async function expectExits(cases: readonly ExitCase[]): Promise<void> {
  const results = await Promise.allSettled(cases.map(async (c) => {
    const exit = await c.run();
    assertExit(exit, c.lines, c.code);
    c.check?.(exit);
  }));
  const failures = results.flatMap((result, i) =>
    result.status === "rejected"
      ? [`${cases[i].name}: ${(result.reason as Error).message}`]
      : []
  );
  assert.deepEqual(failures, []);
}

/** A config line whose bad value must stop the agent with `message`. */
function badValue(line: string, message: string | RegExp): ExitCase {
  return { name: line, run: launched({ config: line }), lines: [message] };
}

/** Waits until the local server has received `count` calls of `operation`. */
async function untilCalls(
  server: SecretsManagerServer,
  operation: string,
  count: number,
): Promise<void> {
  while (server.countCalls(operation) < count) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Every spelling (-h, -c, positional arguments) is a unit test in tests/cli_test.ts;
// these show what the process prints and its exit code.
Deno.test("command line: help, version, bad options and a missing config file each print their line and exit", async () => {
  const missing = "logs/missing.toml";
  await expectExits([
    { name: "--help", run: launched({ args: ["--help"] }), lines: [USAGE] },
    {
      name: "--bogus",
      run: launched({ args: ["--bogus"] }),
      lines: ["Unknown option --bogus", USAGE],
    },
    {
      name: "--config without a value",
      run: launched({ args: ["--config"] }),
      lines: ["Argument expected", USAGE],
    },
    {
      name: "--version",
      run: launched({ args: ["--version"] }),
      lines: [],
      code: 0,
      check: (exit) => assert.equal(exit.stdout, `${VERSION}\n`),
    },
    {
      // Under ./logs, which the permission set grants, so the file's absence is what shows.
      name: "--config naming a missing file",
      run: launched({ args: ["--config", missing] }),
      lines: [new RegExp(`^.*${missing.replace(".", "\\.")}.*$`)],
      check: (exit) =>
        assert.match(agentLines(exit.stderr)[0], /does not exist|not found/i),
    },
  ]);
});

// Every bad value's exact line is checked in tests/config/startup_lines_test.ts,
// through the same loadConfig and describeStartupError; these show that the
// process prints that line alone, exits 1 and names the file as given.
Deno.test("config file: a bad value stops the agent with the contract's exact message", async () => {
  await expectExits([
    badValue(
      'log_level = "TRACE"',
      "The log level specified in the configuration file isn't valid. The log level must be DEBUG, INFO, WARN, ERROR, or NONE.",
    ),
    badValue(
      'http_port = "1023"',
      "The HTTP port specified in the configuration file isn't valid. The HTTP port must be in the range 1024 to 65535.",
    ),
    badValue("bogus_key = 1", /^Unknown configuration key: bogus_key\b.*$/),
    // The harness puts `http_port = <port>` on line 1.
    badValue(
      "log_level = ",
      /^Invalid TOML in configuration file config\.toml at line 2, column \d+: .+$/,
    ),
    badValue(
      "ttl_seconds = 1\nttl_seconds = 2",
      /^Invalid TOML in configuration file config\.toml at line 3, column \d+: .+$/,
    ),
  ]);
});

Deno.test("config file: numbers written as strings of digits are accepted", async () => {
  const port = freePort();
  await using agent = await startAgent({
    config: [
      `http_port = "${port}"`,
      'ttl_seconds = "60"',
      'cache_size = "10"',
      'max_conn = "5"',
      'upstream_timeout_ms = "1000"',
      'log_level = "debug"',
      "validate_credentials = false",
    ].join("\n"),
  });
  assert.equal(agent.port, port);
  const ping = await agent.get("/ping", { token: null });
  assert.deepEqual([ping.status, ping.body], [200, "healthy"]);
});

// Each token failure's line is a unit test in tests/http/token_test.ts; these
// show the process prints it alone, for variables and files the sandbox must
// grant (a name not starting with AWS_, a file anywhere).
Deno.test("SSRF token: a missing, empty or unreadable token stops the agent with one line", async () => {
  const tokenFile = (dir: string) => `${dir}/logs/token`;
  const withTokenFile = (text: string) =>
    inFolder(async (dir) => {
      await Deno.writeTextFile(tokenFile(dir), text);
      return { env: { AWS_TOKEN: `file://${tokenFile(dir)}` } };
    });
  await expectExits([
    {
      name: "no token variable set",
      run: launched({ env: { AWS_TOKEN: undefined } }),
      lines: [
        /^Could not read SSRF token variable\(s\) \[AWS_TOKEN, AWS_SESSION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN\]: .+$/,
      ],
    },
    {
      name: "a token variable of any name, unset",
      run: launched({ config: 'ssrf_env_variables = ["MY_TOKEN"]' }),
      lines: [/^Could not read SSRF token variable\(s\) \[MY_TOKEN\]: .+$/],
    },
    {
      name: "token file missing",
      run: inFolder((dir) => ({
        env: { AWS_TOKEN: `file://${dir}/logs/absent` },
      })),
      lines: [/^(?=.*\/logs\/absent\b)(?=.*not found).*$/],
    },
    {
      name: "token file empty",
      run: withTokenFile(""),
      lines: [/^(?=.*\/logs\/token\b)(?=.*\bempty\b).*$/],
    },
    {
      name: "token file anywhere, missing",
      run: launched({ env: { AWS_TOKEN: "file:///nonexistent/awssmatoken" } }),
      lines: [/^(?=.*\/nonexistent\/awssmatoken)(?=.*not found).*$/],
    },
  ]);
});

if (IS_ROOT) {
  console.log(
    "Skipping the mode-000 SSRF token file case: running as root, which reads the file anyway.",
  );
}

Deno.test({
  name:
    "SSRF token: an unreadable token file (mode 000) stops the agent with one line",
  ignore: IS_ROOT,
  async fn() {
    const exit = await runAgentToExitInFolder(async (dir) => {
      const path = `${dir}/logs/token`;
      await Deno.writeTextFile(path, "token-value");
      await Deno.chmod(path, 0o000);
      return { env: { AWS_TOKEN: `file://${path}` } };
    });
    assertExit(exit, [/^(?=.*\/logs\/token\b)(?=.*permission denied).*$/i]);
  },
});

Deno.test("listening: a port in use stops the agent with one line naming the port", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = taken.addr;
  const exit = await runAgentToExit({ port });
  assertExit(exit, [new RegExp(`^(?=.*\\b${port}\\b)(?=.*in use).*$`)]);
});

Deno.test("permissions: an agent run with grants other than the computed ones names the flag that grants the config file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(path, 'log_level = "INFO"\n');
    const exit = await runMainWithFlags(["--allow-env"], {
      args: ["--config", path],
    });
    assertExit(exit, [
      new RegExp(
        `^Permission denied by the sandbox: grant read access to ${path} \\(--allow-read=${path}; the grants are computed .*deno task permissions\\)$`,
      ),
    ]);
  } finally {
    await Deno.remove(path);
  }
});

/**
 * Starts the agent with `DENO_SERVE_ADDRESS` set to `value`: it must exit 1
 * with one line saying to unset it. An agent that starts instead fails the
 * test at once (and is stopped), naming where it listened.
 */
async function assertServeAddressRefused(value: string): Promise<void> {
  let agent: RunningAgent;
  try {
    agent = await startAgent({
      env: { DENO_SERVE_ADDRESS: value },
      config:
        'listen_addresses = ["127.0.0.1", "::1"]\nvalidate_credentials = false',
    });
  } catch (error) {
    const text = (error as Error).message;
    const exit = /^The agent did not start \(exit (\d+)\):\n([\s\S]*)$/.exec(
      text,
    );
    assert.ok(exit, text);
    assertExit(
      { code: Number(exit[1]), stderr: exit[2], stdout: "" },
      [/^DENO_SERVE_ADDRESS is set: unset it to start the agent\b/],
    );
    return;
  }
  await using _ = agent;
  assert.fail(
    `the agent started with DENO_SERVE_ADDRESS=${value}:\n${agent.stdout()}`,
  );
}

// The refusal is one check of the variable before anything listens: every
// form is a unit test in tests/http/listener_test.ts; these show that it
// comes before Deno could act on a redirect, an added listener or an empty value.
for (
  const [form, value] of [
    ["tcp:0.0.0.0:<port>", (port: number) => `tcp:0.0.0.0:${port}`],
    [
      "duplicate,tcp:127.0.0.1:<other port>",
      (port: number) => `duplicate,tcp:127.0.0.1:${port}`,
    ],
    ["empty", () => ""],
  ] as const
) {
  Deno.test(`listening: DENO_SERVE_ADDRESS=${form} stops the agent with one line saying to unset it`, async () => {
    await assertServeAddressRefused(value(freePort()));
  });
}

Deno.test("region: no region anywhere stops the agent with one line; a config region is enough", async () => {
  await withSecretsManagerServer(async (server) => {
    await expectExits([{
      name: "no region",
      run: launched({ endpoint: server.url, env: { AWS_REGION: undefined } }),
      lines: [/^.*\bregion\b.*$/i],
    }]);
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'region = "us-east-1"',
      env: { AWS_REGION: undefined },
    });
    assert.equal((await agent.get("/ping", { token: null })).status, 200);
  });
});

Deno.test("validate_credentials: a rejected key stops the agent; a transient STS failure does not", async () => {
  await withSecretsManagerServer(async (server) => {
    await expectExits([
      {
        name: "wrong secret key",
        run: launched({
          endpoint: server.url,
          env: { AWS_SECRET_ACCESS_KEY: WRONG_SECRET_KEY },
        }),
        lines: [
          /^(?=.*\bcredentials\b)(?=.*GetCallerIdentity)(?=.*SignatureDoesNotMatch).*$/,
        ],
        check: (exit) =>
          assert.doesNotMatch(exit.stderr, new RegExp(WRONG_SECRET_KEY)),
      },
    ]);
  });
  // A server per case: each asserts on the faults and calls it saw.
  const stopsWith = (
    name: string,
    config: string,
    fault: Parameters<SecretsManagerServer["setFault"]>[0],
    line: RegExp,
  ): ExitCase => ({
    name,
    lines: [line],
    run: async () => {
      const server = await startSecretsManagerServer();
      try {
        server.setFault(fault, { operations: [STS] });
        return await runAgentToExit({ endpoint: server.url, config });
      } finally {
        await server.close();
      }
    },
  });
  await expectExits([
    stopsWith(
      "STS throttling (not transient)",
      "",
      { kind: "throttle" },
      /^(?=.*\bcredentials\b)(?=.*Throttl).*$/,
    ),
    stopsWith(
      "STS 500 with ignore_transient_errors = false",
      "ignore_transient_errors = false",
      { kind: "status", status: 500 },
      /^(?=.*\bcredentials\b)(?=.*GetCallerIdentity)(?=.*Internal).*$/,
    ),
  ]);
});

/** Starts an agent against its own server with `fault` on STS; returns the log and call count. */
async function startedDespite(
  config: string,
  options: {
    fault?: Parameters<SecretsManagerServer["setFault"]>[0];
    env?: AgentLaunch["env"];
  },
): Promise<{ log: string; stsCalls: number }> {
  const server = await startSecretsManagerServer();
  try {
    server.setFault(options.fault, { operations: [STS] });
    await using agent = await startAgent({
      endpoint: server.url,
      config,
      env: options.env,
    });
    const ping = await agent.get("/ping", { token: null });
    assert.equal(ping.status, 200);
    await agent.stop();
    return { log: await agent.logText(), stsCalls: server.countCalls(STS) };
  } finally {
    await server.close();
  }
}

Deno.test("validate_credentials: good credentials, validation off, or a transient STS failure let the agent start", async () => {
  const [good, off, failing, stalled] = await Promise.all([
    startedDespite("", {}),
    startedDespite("validate_credentials = false", {
      env: { AWS_SECRET_ACCESS_KEY: WRONG_SECRET_KEY },
    }),
    startedDespite("", { fault: { kind: "status", status: 500 } }),
    startedDespite("upstream_timeout_ms = 200", { fault: { kind: "stall" } }),
  ]);
  assert.equal(good.stsCalls, 1, "one GetCallerIdentity with good credentials");
  assert.doesNotMatch(good.log, / WARN /);
  assert.equal(off.stsCalls, 0, "no GetCallerIdentity when validation is off");
  for (const [name, run] of [["500", failing], ["stall", stalled]] as const) {
    assert.ok(run.stsCalls >= 1, name);
    assert.match(run.log, / WARN .*credentials/i, `${name}:\n${run.log}`);
  }
});

/** Stops the agent with `signal` and asserts a clean exit. */
async function stopCleanly(
  agent: RunningAgent,
  signal: Deno.Signal,
): Promise<string> {
  const exit = await agent.stop(signal);
  assert.equal(exit.code, 0, exit.stderr);
  assert.doesNotMatch(exit.stderr, STACK_FRAME);
  assert.deepEqual(agentLines(exit.stderr), []);
  return await agent.logText();
}

/** Starts an agent, optionally waits for a served /ping, then stops it with `signal`. */
async function startThenStop(
  server: SecretsManagerServer,
  signal: Deno.Signal,
  options: { afterPing: boolean },
): Promise<void> {
  await using agent = await startAgent({ endpoint: server.url });
  if (options.afterPing) {
    assert.equal((await agent.get("/ping", { token: null })).status, 200);
  }
  const log = await stopCleanly(agent, signal);
  assert.match(log, new RegExp(` INFO ${signal} received`));
  assert.match(log, / INFO Agent stopped$/m);
}

Deno.test("signals: SIGTERM and SIGINT after a served request stop the agent with exit 0 and log Agent stopped", async () => {
  await withSecretsManagerServer(async (server) => {
    await Promise.all([
      startThenStop(server, "SIGTERM", { afterPing: true }),
      startThenStop(server, "SIGINT", { afterPing: true }),
    ]);
  });
});

// A supervisor may stop the agent as soon as it reports ready.
Deno.test("signals: SIGTERM and SIGINT right after the listening line still exit 0", async () => {
  await withSecretsManagerServer(async (server) => {
    await Promise.all([
      startThenStop(server, "SIGTERM", { afterPing: false }),
      startThenStop(server, "SIGINT", { afterPing: false }),
    ]);
  });
});

Deno.test("signals: a request in flight at SIGTERM still gets its 200 before exit 0", async () => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret("slow/secret", "slow-value");
    await using agent = await startAgent({ endpoint: server.url });
    server.setFault({ kind: "latency", ms: 800 }, {
      operations: ["GetSecretValue"],
    });
    const pending = agent.get("/secretsmanager/get?secretId=slow%2Fsecret");
    await untilCalls(server, "GetSecretValue", 1);
    const stopped = stopCleanly(agent, "SIGTERM");
    const response = await pending;
    assert.equal(response.status, 200, response.body);
    assert.equal(JSON.parse(response.body).SecretString, "slow-value");
    const log = await stopped;
    assert.match(log, /GET \/secretsmanager\/get\?secretId=slow%2Fsecret 200/);
    assert.match(log, / INFO Agent stopped$/m);
  });
});
