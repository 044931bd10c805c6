/**
 * The start-up table of bad config values: each gives the contract's exact
 * line, as main.ts prints it (`describeStartupError` of what `loadConfig`
 * throws for the file). The process-level test shows a few of them reach
 * stderr alone, with exit 1.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { describeStartupError } from "../../src/startup_error.ts";

/** One config line and the line the agent must print for it. */
interface BadValue {
  readonly line: string;
  readonly message: string | RegExp;
}

function badValue(line: string, message: string | RegExp): BadValue {
  return { line, message };
}

/** The one stderr line for a config file holding `text` after the harness's port line. */
function startupLine(dir: string, text: string): string {
  const path = `${dir}/config.toml`;
  // As the process harness does: a port line first unless the text sets it.
  const port = /^\s*http_port\s*=/m.test(text) ? "" : "http_port = 2773\n";
  Deno.writeTextFileSync(path, `${port}${text}`);
  try {
    loadConfig(path);
  } catch (error) {
    return describeStartupError(error);
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

Deno.test("config file: each bad value gives the contract's exact start-up line", () => {
  const LOG_LEVEL =
    "The log level specified in the configuration file isn't valid. The log level must be DEBUG, INFO, WARN, ERROR, or NONE.";
  const PORT =
    "The HTTP port specified in the configuration file isn't valid. The HTTP port must be in the range 1024 to 65535.";
  const TTL =
    "The TTL in seconds specified in the configuration file isn't valid. The TTL in seconds must be in the range 0 to 3600.";
  const CACHE_SIZE =
    "The cache size specified in the configuration file isn't valid. The cache size must be in the range 0 to 1000.";
  const HEADERS =
    "The list of SSRF headers in the configuration file can't be empty.";
  const ENV_VARIABLES =
    "The list of SSRF environment variables in the configuration file can't be empty.";
  const PREFIX =
    "The path prefix specified in the configuration file must begin with /.";
  const MAX_CONN =
    "The maximum number of connections specified in the configuration file isn't valid. The maximum number of connections must be in the range 1 to 1000.";
  const TIMEOUT =
    "The upstream timeout specified in the configuration file isn't valid. The upstream timeout in milliseconds must be in the range 100 to 60000.";
  const cases = [
    badValue('log_level = "TRACE"', LOG_LEVEL),
    badValue("log_level = 1", LOG_LEVEL),
    badValue("http_port = 1023", PORT),
    badValue("http_port = 65536", PORT),
    badValue('http_port = "1023"', PORT),
    badValue("http_port = 2773.0", PORT),
    badValue("ttl_seconds = 3601", TTL),
    badValue("ttl_seconds = -1", TTL),
    badValue('ttl_seconds = "3601"', TTL),
    badValue('ttl_seconds = "60s"', TTL),
    badValue("cache_size = 1001", CACHE_SIZE),
    badValue("cache_size = -1", CACHE_SIZE),
    badValue("ssrf_headers = []", HEADERS),
    badValue("ssrf_env_variables = []", ENV_VARIABLES),
    badValue('path_prefix = "v1/"', PREFIX),
    badValue('path_prefix = ""', PREFIX),
    badValue("max_conn = 0", MAX_CONN),
    badValue("max_conn = 1001", MAX_CONN),
    badValue("upstream_timeout_ms = 99", TIMEOUT),
    badValue("upstream_timeout_ms = 60001", TIMEOUT),
    badValue('upstream_timeout_ms = "99"', TIMEOUT),
    badValue(
      'log_to_file = "yes"',
      "The value of log_to_file in the configuration file must be true or false.",
    ),
    badValue(
      "validate_credentials = 1",
      "The value of validate_credentials in the configuration file must be true or false.",
    ),
    badValue(
      'listen_addresses = ["0.0.0.0"]',
      'The list of listen addresses in the configuration file must be a list of loopback addresses, 127.0.0.1 or ::1, such as ["127.0.0.1", "::1"].',
    ),
    badValue(
      "listen_addresses = []",
      "The list of listen addresses in the configuration file can't be empty unless unix_socket_path is set.",
    ),
    badValue(
      'unix_socket_path = "agent.sock"',
      "The Unix socket path specified in the configuration file must be an absolute path of at most 107 bytes.",
    ),
    badValue(
      'unix_socket_mode = "0440"',
      'The Unix socket mode specified in the configuration file isn\'t valid. The Unix socket mode must be an octal string, such as "0660", that gives the owner read and write access.',
    ),
    badValue(
      "max_assumed_roles = 0",
      "The maximum number of assumed roles specified in the configuration file isn't valid. The maximum number of assumed roles must be in the range 1 to 100.",
    ),
    ...[
      "unix_socket_require_token",
      "parameter_store",
      "metrics",
      "allow_role_arn",
      "use_fips_endpoint",
      "audit_log",
    ].map((key) =>
      badValue(
        `${key} = "yes"`,
        `The value of ${key} in the configuration file must be true or false.`,
      )
    ),
    badValue("bogus_key = 1", /^Unknown configuration key: bogus_key\b.*$/),
    // The harness puts `http_port = <port>` on line 1.
    badValue(
      "log_level = ",
      /^Invalid TOML in configuration file \S*\/config\.toml at line 2, column \d+: .+$/,
    ),
    badValue(
      "ttl_seconds = 1\nttl_seconds = 2",
      /^Invalid TOML in configuration file \S*\/config\.toml at line 3, column \d+: .+$/,
    ),
  ];
  const dir = Deno.makeTempDirSync({ prefix: "startup-lines-" });
  try {
    const failures = cases.flatMap(({ line, message }) => {
      const printed = startupLine(dir, line);
      const ok = typeof message === "string"
        ? printed === message
        : message.test(printed);
      return ok ? [] : [`${line}: ${printed}`];
    });
    assert.deepEqual(failures, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
