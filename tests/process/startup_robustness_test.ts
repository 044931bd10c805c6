/**
 * Start-up with hostile or broken inputs: each one is a clear line on stderr
 * (no stack trace) and exit 1, or, where the input is valid, a normal start.
 *
 * Already covered in tests/agent_startup_test.ts, so not repeated here: the
 * SSRF token file missing, empty, blank (whitespace only), a directory, a path
 * anywhere that does not exist, mode 000 (skipped as root); the token
 * variable unset, empty or blank; a config path the sandbox does not grant;
 * bad config values and invalid TOML; a port in use.
 *
 * "Cannot read" here is the sandbox's: running as root reads a mode-000 file,
 * so unreadable means a grant the agent was started without.
 */

import assert from "node:assert/strict";
import {
  AGENT_TOKEN,
  type AgentExit,
  freePort,
  runAgentToExit,
  runMainWithFlags,
} from "../support/agent_process.ts";
import {
  type FolderLaunch,
  runAgentToExitInFolder,
} from "../support/agent_in_folder.ts";

const DENO_PERMISSION_SET_NOTICE =
  "Warning Permissions in the config file is an experimental feature and may change in the future.";
const STACK_FRAME = /^ {4}at /m;
const DEFAULT_PORT = 2773;
/**
 * Nothing listens there: STS validation fails fast as a transient error. (Not
 * port 9: fetch refuses the Fetch standard's "bad ports" before connecting.)
 */
const CLOSED_ENDPOINT = `http://127.0.0.1:${freePort()}`;

/** Asserts exit 1, no stack trace, and exactly one line of the agent's own matching `line`. */
function assertOneLine(exit: AgentExit, line: RegExp): void {
  const output = `stderr: ${exit.stderr}\nstdout: ${exit.stdout}`;
  assert.equal(exit.code, 1, output);
  assert.doesNotMatch(exit.stderr, STACK_FRAME, output);
  const lines = exit.stderr.split("\n").map((text) => text.trimEnd()).filter(
    (text) => text !== "" && text !== DENO_PERMISSION_SET_NOTICE,
  );
  assert.equal(lines.length, 1, output);
  assert.match(lines[0], line, output);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(lines[0], /[\x00-\x1f\x7f]/, "raw control characters");
}

/** Runs the agent in a folder where `files` (bytes) were written under ./logs. */
function runWithFiles(
  files: Readonly<Record<string, Uint8Array>>,
  launch: (dir: string) => FolderLaunch,
): Promise<AgentExit> {
  return runAgentToExitInFolder(async (dir) => {
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(`${dir}/logs/${name}`, bytes);
    }
    return launch(dir);
  });
}

function tokenFromFile(bytes: Uint8Array): Promise<AgentExit> {
  return runWithFiles(
    { token: bytes },
    (dir) => ({ env: { AWS_TOKEN: `file://${dir}/logs/token` } }),
  );
}

function configFromFile(bytes: Uint8Array): Promise<AgentExit> {
  return runWithFiles(
    { "agent.toml": bytes },
    () => ({ args: ["--config", "logs/agent.toml"] }),
  );
}

const INVALID_UTF8 = new Uint8Array([0x61, 0x62, 0xff, 0xfe, 0xc3, 0x28]);

/** Random bytes that are valid UTF-8 but full of control characters. */
function controlGarbage(): Uint8Array {
  const bytes = new Uint8Array(512);
  crypto.getRandomValues(bytes);
  return bytes.map((byte) => byte & 0x1f);
}

Deno.test("SSRF token: an existing file the sandbox does not grant is refused, and its content never printed", async () => {
  const path = await Deno.makeTempFile({ prefix: "awssmatoken-" });
  try {
    await Deno.writeTextFile(path, "outside-sandbox-token-value\n");
    // Grants other than the computed ones, which would name this file.
    const exit = await runMainWithFlags(["--allow-env"], {
      env: { AWS_TOKEN: `file://${path}` },
    });
    assertOneLine(
      exit,
      new RegExp(`^Permission denied by the sandbox: .*${path}.*\\bread\\b`),
    );
    assert.doesNotMatch(exit.stderr + exit.stdout, /outside-sandbox-token/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("SSRF token: a file of invalid UTF-8 or of binary garbage stops the agent with one line", async () => {
  const [invalid, binary, innerNewline] = await Promise.all([
    tokenFromFile(INVALID_UTF8),
    tokenFromFile(controlGarbage()),
    tokenFromFile(new TextEncoder().encode("first-half\nsecond-half\n")),
  ]);
  assertOneLine(invalid, /\/logs\/token\b.*not UTF-8 text$/);
  // Trimmed, such a token would still hold characters no header can carry.
  assertOneLine(binary, /\/logs\/token\b.*control characters/);
  assertOneLine(innerNewline, /\/logs\/token\b.*control characters/);
  assert.doesNotMatch(innerNewline.stderr, /first-half|second-half/);
});

Deno.test("SSRF token: a variable holding control characters stops the agent with one line", async () => {
  const exit = await runAgentToExit({
    env: { AWS_TOKEN: `${AGENT_TOKEN}\u0007bell` },
  });
  assertOneLine(exit, /^(?=.*\bAWS_TOKEN\b)(?=.*control characters).*$/);
  assert.ok(!exit.stderr.includes(AGENT_TOKEN));
});

Deno.test("config file: a directory, invalid UTF-8 or binary garbage stops the agent with one line naming the file", async () => {
  const [directory, invalid, random, control] = await Promise.all([
    runAgentToExitInFolder(() => ({ args: ["--config", "logs"] })),
    configFromFile(INVALID_UTF8),
    configFromFile(crypto.getRandomValues(new Uint8Array(4096))),
    configFromFile(controlGarbage()),
  ]);
  assertOneLine(
    directory,
    /^Cannot read configuration file logs: it is a directory$/,
  );
  assertOneLine(
    invalid,
    /^Cannot read configuration file logs\/agent\.toml: it is not UTF-8 text$/,
  );
  // Random bytes are almost never valid UTF-8; if they were, TOML refuses them.
  assertOneLine(
    random,
    /^(Cannot read configuration file logs\/agent\.toml: it is not UTF-8 text|Invalid TOML in configuration file logs\/agent\.toml at line \d+, column \d+: .+)$/,
  );
  assertOneLine(
    control,
    /^Invalid TOML in configuration file logs\/agent\.toml at line \d+, column \d+: .+$/,
  );
});

Deno.test("config file: an empty file is valid TOML, so every default applies (here: port 2773, held by the test)", async () => {
  // Holding the default port turns "the defaults applied" into a quick exit
  // naming 2773; if something else holds it, the outcome is the same.
  let held: Deno.Listener | undefined;
  try {
    held = Deno.listen({ hostname: "127.0.0.1", port: DEFAULT_PORT });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
  }
  try {
    const exit = await runWithFiles(
      { "agent.toml": new Uint8Array() },
      () => ({
        args: ["--config", "logs/agent.toml"],
        env: { AWS_ENDPOINT_URL_STS: CLOSED_ENDPOINT },
      }),
    );
    assertOneLine(exit, new RegExp(`^(?=.*\\b${DEFAULT_PORT}\\b)(?=.*in use)`));
  } finally {
    held?.close();
  }
});

Deno.test("config file: a huge file (16 MiB of comments) is read to its end: the bad value on its last line is reported", async () => {
  const padding = "# padding padding padding padding padding padding\n".repeat(
    (16 * 1024 * 1024) / 50,
  );
  const exit = await runAgentToExit({ config: `${padding}ttl_seconds = 3601` });
  assertOneLine(
    exit,
    /^The TTL in seconds specified in the configuration file isn't valid\. The TTL in seconds must be in the range 0 to 3600\.$/,
  );
});
