import assert from "node:assert/strict";
import { assertConfigError } from "./_assert_config_error.ts";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  parseConfig,
} from "../../src/config/config.ts";

const MESSAGES = {
  log_level:
    "The log level specified in the configuration file isn't valid. The log level must be DEBUG, INFO, WARN, ERROR, or NONE.",
  http_port:
    "The HTTP port specified in the configuration file isn't valid. The HTTP port must be in the range 1024 to 65535.",
  ttl_seconds:
    "The TTL in seconds specified in the configuration file isn't valid. The TTL in seconds must be in the range 0 to 3600.",
  cache_size:
    "The cache size specified in the configuration file isn't valid. The cache size must be in the range 0 to 1000.",
  max_conn:
    "The maximum number of connections specified in the configuration file isn't valid. The maximum number of connections must be in the range 1 to 1000.",
  ssrf_headers_empty:
    "The list of SSRF headers in the configuration file can't be empty.",
  ssrf_env_variables_empty:
    "The list of SSRF environment variables in the configuration file can't be empty.",
  path_prefix:
    "The path prefix specified in the configuration file must begin with /.",
  upstream_timeout_ms:
    "The upstream timeout specified in the configuration file isn't valid. The upstream timeout in milliseconds must be in the range 100 to 60000.",
  refresh_ahead_percent:
    "The refresh-ahead percentage specified in the configuration file isn't valid. The refresh-ahead percentage must be in the range 50 to 95.",
  cache_max_bytes:
    "The maximum cache size in bytes specified in the configuration file isn't valid. The maximum cache size in bytes must be in the range 65536 to 1073741824.",
  warm_up_secrets:
    'The list of warm-up secrets in the configuration file must be a list of secret names or ARNs, or of tables of a secret_id and a role_arn, such as ["prod/db", { secret_id = "shared/db", role_arn = "arn:aws:iam::123456789012:role/reader" }].',
  warm_up_secrets_role_without_allow:
    "Warm-up secrets and tags with a role_arn need allow_role_arn = true in the configuration file: without it no request can read them.",
  warm_up_tags:
    'The list of warm-up tags in the configuration file must be a list of at most 10 tables of a key, optional values and an optional role_arn, such as [{ key = "team", values = ["payments"] }].',
  warm_up_tags_text:
    "A warm-up tag in the configuration file isn't valid: its key must be 1 to 128 and each of its 1 to 10 values at most 256 letters, digits, spaces or the characters : _ @ / + = . -",
  warm_up_discovery_seconds:
    "The warm-up discovery period specified in the configuration file isn't valid. The warm-up discovery period in seconds must be in the range 1 to 86400.",
  warm_up_secrets_too_long:
    "The list of warm-up secrets in the configuration file can't hold more than 1000 secrets.",
  listen_addresses:
    'The list of listen addresses in the configuration file must be a list of loopback addresses, 127.0.0.1 or ::1, such as ["127.0.0.1", "::1"].',
  listen_addresses_empty:
    "The list of listen addresses in the configuration file can't be empty unless unix_socket_path is set.",
  unix_socket_path:
    "The Unix socket path specified in the configuration file must be an absolute path of at most 107 bytes.",
  unix_socket_mode:
    'The Unix socket mode specified in the configuration file isn\'t valid. The Unix socket mode must be an octal string, such as "0660", that gives the owner read and write access.',
  max_assumed_roles:
    "The maximum number of assumed roles specified in the configuration file isn't valid. The maximum number of assumed roles must be in the range 1 to 100.",
} as const;

function loadError(
  path: string | undefined,
  readTextFile?: (path: string) => string,
): string {
  try {
    loadConfig(path, readTextFile ? { readTextFile } : {});
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail("loadConfig did not throw");
}

Deno.test("defaults match the contract table", () => {
  const expected: Config = {
    logLevel: "INFO",
    logToFile: true,
    httpPort: 2773,
    region: undefined,
    ttlSeconds: 300,
    cacheSize: 1000,
    ssrfHeaders: ["X-Aws-Parameters-Secrets-Token", "X-Vault-Token"],
    ssrfEnvVariables: [
      "AWS_TOKEN",
      "AWS_SESSION_TOKEN",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ],
    pathPrefix: "/v1/",
    maxConn: 800,
    ignoreTransientErrors: true,
    validateCredentials: true,
    credentialsFilePath: undefined,
    credentialsFileTemporaryOnly: false,
    upstreamTimeoutMs: 5000,
    refreshAhead: true,
    refreshAheadPercent: 80,
    cacheMaxBytes: 67108864,
    warmUpSecrets: [],
    warmUpTags: [],
    warmUpDiscoverySeconds: undefined,
    listenAddresses: ["127.0.0.1"],
    unixSocketPath: undefined,
    unixSocketMode: 0o660,
    unixSocketRequireToken: true,
    parameterStore: false,
    metrics: false,
    allowRoleArn: false,
    maxAssumedRoles: 10,
    useFipsEndpoint: false,
    auditLog: false,
    files: [],
  };
  assert.deepEqual(DEFAULT_CONFIG, expected);
});

Deno.test("an empty file gives every default", () => {
  assert.deepEqual(parseConfig(""), DEFAULT_CONFIG);
  assert.deepEqual(parseConfig("# only a comment\n"), DEFAULT_CONFIG);
});

Deno.test("no config path gives the defaults without reading a file", () => {
  const config = loadConfig(undefined, {
    readTextFile: () => assert.fail("must not read"),
  });
  assert.equal(config, DEFAULT_CONFIG);
});

Deno.test("the parsed config and its lists are frozen", () => {
  const config = parseConfig('ssrf_headers = ["X-A"]');
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.ssrfHeaders));
  assert.ok(Object.isFrozen(config.ssrfEnvVariables));
  assert.ok(Object.isFrozen(DEFAULT_CONFIG));
  assert.ok(Object.isFrozen(DEFAULT_CONFIG.ssrfHeaders));
  assert.throws(() => {
    (config as { httpPort: number }).httpPort = 1;
  }, TypeError);
});

const RANGES = [
  { key: "http_port", field: "httpPort", low: 1024, high: 65535 },
  { key: "ttl_seconds", field: "ttlSeconds", low: 0, high: 3600 },
  { key: "cache_size", field: "cacheSize", low: 0, high: 1000 },
  { key: "max_conn", field: "maxConn", low: 1, high: 1000 },
  {
    key: "upstream_timeout_ms",
    field: "upstreamTimeoutMs",
    low: 100,
    high: 60000,
  },
  {
    key: "refresh_ahead_percent",
    field: "refreshAheadPercent",
    low: 50,
    high: 95,
  },
  {
    key: "cache_max_bytes",
    field: "cacheMaxBytes",
    low: 65536,
    high: 1073741824,
  },
  { key: "max_assumed_roles", field: "maxAssumedRoles", low: 1, high: 100 },
] as const;

for (const { key, field, low, high } of RANGES) {
  Deno.test(`${key} accepts ${low} and ${high}, as integers and as strings`, () => {
    for (const value of [low, high]) {
      assert.equal(parseConfig(`${key} = ${value}`)[field], value);
      assert.equal(parseConfig(`${key} = "${value}"`)[field], value);
    }
  });

  Deno.test(`${key} refuses ${low - 1} and ${high + 1} with the contract message`, () => {
    for (const value of [low - 1, high + 1]) {
      assertConfigError(`${key} = ${value}`, MESSAGES[key]);
      if (value >= 0) assertConfigError(`${key} = "${value}"`, MESSAGES[key]);
    }
  });

  Deno.test(`${key} refuses floats, signs, spaces, junk and other types`, () => {
    const bad = [
      "300.0",
      "3e2",
      '"3e2"',
      '"300.5"',
      '"-1"',
      '"+300"',
      '" 300"',
      '"300 "',
      '"12abc"',
      '""',
      "true",
      '"true"',
      "[300]",
      "{ value = 300 }",
      "1979-05-27",
      "nan",
      "inf",
      "99999999999999999999",
      '"99999999999999999999"',
    ];
    for (const value of bad) {
      assertConfigError(`${key} = ${value}`, MESSAGES[key]);
    }
  });
}

Deno.test("string numbers with leading zeros and hex integers are read as their value", () => {
  assert.equal(parseConfig('ttl_seconds = "0300"').ttlSeconds, 300);
  assert.equal(parseConfig("http_port = 0xACD").httpPort, 2765);
  assert.equal(parseConfig("http_port = 2_773").httpPort, 2773);
});

Deno.test("log_level accepts every level in any case, normalized to upper case", () => {
  for (const level of ["DEBUG", "INFO", "WARN", "ERROR", "NONE"] as const) {
    assert.equal(parseConfig(`log_level = "${level}"`).logLevel, level);
    assert.equal(
      parseConfig(`log_level = "${level.toLowerCase()}"`).logLevel,
      level,
    );
  }
  assert.equal(parseConfig('log_level = "dEbUg"').logLevel, "DEBUG");
});

Deno.test("log_level refuses other names and types with the contract message", () => {
  for (
    const value of [
      '"TRACE"',
      '"WARNING"',
      '""',
      '" INFO"',
      '"\u0131nfo"', // dotless i: toUpperCase would make it INFO
      "1",
      "true",
      '["INFO"]',
    ]
  ) {
    assertConfigError(`log_level = ${value}`, MESSAGES.log_level);
  }
});

const BOOLEANS = [
  { key: "log_to_file", field: "logToFile" },
  { key: "ignore_transient_errors", field: "ignoreTransientErrors" },
  { key: "validate_credentials", field: "validateCredentials" },
  { key: "refresh_ahead", field: "refreshAhead" },
  { key: "unix_socket_require_token", field: "unixSocketRequireToken" },
  { key: "parameter_store", field: "parameterStore" },
  { key: "metrics", field: "metrics" },
  { key: "allow_role_arn", field: "allowRoleArn" },
  { key: "use_fips_endpoint", field: "useFipsEndpoint" },
  { key: "audit_log", field: "auditLog" },
] as const;

for (const { key, field } of BOOLEANS) {
  Deno.test(`${key} takes TOML booleans only`, () => {
    assert.equal(parseConfig(`${key} = false`)[field], false);
    assert.equal(parseConfig(`${key} = true`)[field], true);
    for (const value of ['"true"', '"false"', "1", "0", '""', "[true]"]) {
      assertConfigError(
        `${key} = ${value}`,
        `The value of ${key} in the configuration file must be true or false.`,
      );
    }
  });
}

Deno.test("ssrf_headers takes a non-empty list of header names", () => {
  const config = parseConfig('ssrf_headers = ["X-Token", "Authorization"]');
  assert.deepEqual(config.ssrfHeaders, ["X-Token", "Authorization"]);
  assertConfigError("ssrf_headers = []", MESSAGES.ssrf_headers_empty);
  const wrongType =
    'The list of SSRF headers in the configuration file must be a list of HTTP header names, such as ["X-Aws-Parameters-Secrets-Token"].';
  for (
    const value of [
      '"X-Token"',
      "[1]",
      '[""]',
      '["X Token"]',
      '["X-Token:"]',
      '["X-Token", 2]',
      "[[]]",
      "true",
    ]
  ) {
    assertConfigError(`ssrf_headers = ${value}`, wrongType);
  }
});

Deno.test("ssrf_env_variables takes a non-empty list of variable names", () => {
  const config = parseConfig('ssrf_env_variables = ["MY_TOKEN"]');
  assert.deepEqual(config.ssrfEnvVariables, ["MY_TOKEN"]);
  assertConfigError(
    "ssrf_env_variables = []",
    MESSAGES.ssrf_env_variables_empty,
  );
  const wrongType =
    'The list of SSRF environment variables in the configuration file must be a list of environment variable names, such as ["AWS_TOKEN"].';
  for (const value of ['"AWS_TOKEN"', "[1]", '[""]', '["A=B"]', "{}"]) {
    assertConfigError(`ssrf_env_variables = ${value}`, wrongType);
  }
});

Deno.test("path_prefix must begin with a slash", () => {
  assert.equal(
    parseConfig('path_prefix = "/secrets/"').pathPrefix,
    "/secrets/",
  );
  assert.equal(parseConfig('path_prefix = "/"').pathPrefix, "/");
  for (const value of ['"v1/"', '""', '" /v1/"', "1", "false"]) {
    assertConfigError(`path_prefix = ${value}`, MESSAGES.path_prefix);
  }
});

Deno.test("region is a non-empty string", () => {
  assert.equal(parseConfig('region = "eu-west-1"').region, "eu-west-1");
  for (const value of ['""', "1", "true", '["us-east-1"]']) {
    assertConfigError(
      `region = ${value}`,
      "The region specified in the configuration file must be a non-empty string.",
    );
  }
});

Deno.test("credentials_file_path is a non-empty string", () => {
  assert.equal(
    parseConfig('credentials_file_path = "/etc/aws/credentials"')
      .credentialsFilePath,
    "/etc/aws/credentials",
  );
  for (const value of ['""', "1", "false"]) {
    assertConfigError(
      `credentials_file_path = ${value}`,
      "The credentials file path specified in the configuration file must be a non-empty string.",
    );
  }
});

Deno.test("warm_up_secrets takes a list of secret names or ARNs, possibly empty, duplicates once", () => {
  const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
  assert.deepEqual(
    parseConfig(`warm_up_secrets = ["prod/db", "${arn}", "prod/db"]`)
      .warmUpSecrets,
    [{ secretId: "prod/db" }, { secretId: arn }],
  );
  const empty = parseConfig("warm_up_secrets = []").warmUpSecrets;
  assert.deepEqual(empty, []);
  assert.ok(
    Object.isFrozen(parseConfig('warm_up_secrets = ["a"]').warmUpSecrets),
  );
  for (
    const value of [
      '"prod/db"',
      "[1]",
      '[""]',
      '["prod db"]',
      '["prod/db\\n"]',
      '["tab\\there"]',
      `["${"x".repeat(2049)}"]`,
      '["a", ["b"]]',
      "true",
      "{ a = 1 }",
    ]
  ) {
    assertConfigError(`warm_up_secrets = ${value}`, MESSAGES.warm_up_secrets);
  }
  assert.deepEqual(
    parseConfig(`warm_up_secrets = ["${"x".repeat(2048)}"]`).warmUpSecrets,
    [{ secretId: "x".repeat(2048) }],
  );
});

Deno.test("warm_up_secrets entries may name the role to read them with, once each pair", () => {
  const role = "arn:aws:iam::123456789012:role/reader";
  const other = "arn:aws-cn:iam::210987654321:role/path/other";
  const config = parseConfig(
    `allow_role_arn = true
warm_up_secrets = [
  "shared/db",
  { secret_id = "shared/db", role_arn = "${role}" },
  { secret_id = "shared/db", role_arn = "${other}" },
  { secret_id = "shared/db", role_arn = "${role}" },
  { secret_id = "plain" },
]`,
  );
  assert.deepEqual(config.warmUpSecrets, [
    { secretId: "shared/db" },
    { secretId: "shared/db", roleArn: role },
    { secretId: "shared/db", roleArn: other },
    { secretId: "plain" },
  ]);
  assert.ok(config.warmUpSecrets.every(Object.isFrozen));
  for (
    const value of [
      "[{}]",
      `[{ role_arn = "${role}" }]`,
      '[{ secret_id = "" }]',
      '[{ secret_id = "a b" }]',
      "[{ secret_id = 1 }]",
      '[{ secret_id = "a", role_arn = 1 }]',
      '[{ secret_id = "a", version_stage = "AWSPREVIOUS" }]',
      '[{ secret_id = "a", role_arn = "r", extra = true }]',
      '[["a"]]',
    ]
  ) {
    assertConfigError(
      `allow_role_arn = true\nwarm_up_secrets = ${value}`,
      MESSAGES.warm_up_secrets,
    );
  }
  for (
    const roleArn of [
      "",
      "reader",
      "arn:aws:iam::123:role/reader",
      "arn:aws:iam::123456789012:user/reader",
      "arn:aws:sts::123456789012:assumed-role/reader/session",
    ]
  ) {
    assertConfigError(
      `allow_role_arn = true\nwarm_up_secrets = [{ secret_id = "shared/db", role_arn = "${roleArn}" }]`,
      "The role_arn of warm-up secret shared/db in the configuration file isn't valid: invalid roleArn format, expected arn:<partition>:iam::<account>:role/<name>.",
    );
  }
});

Deno.test("a warm-up entry with a role_arn needs allow_role_arn, whatever the keys' order", () => {
  const entry =
    `warm_up_secrets = [{ secret_id = "shared/db", role_arn = "arn:aws:iam::123456789012:role/reader" }]`;
  assertConfigError(entry, MESSAGES.warm_up_secrets_role_without_allow);
  assertConfigError(
    `allow_role_arn = false\n${entry}`,
    MESSAGES.warm_up_secrets_role_without_allow,
  );
  assert.equal(
    parseConfig(`${entry}\nallow_role_arn = true`).warmUpSecrets.length,
    1,
  );
});

Deno.test("warm_up_secrets holds at most 1000 distinct secrets", () => {
  const ids = (count: number) =>
    JSON.stringify(Array.from({ length: count }, (_, i) => `secret-${i}`));
  assert.equal(
    parseConfig(`warm_up_secrets = ${ids(1000)}`).warmUpSecrets.length,
    1000,
  );
  assertConfigError(
    `warm_up_secrets = ${ids(1001)}`,
    MESSAGES.warm_up_secrets_too_long,
  );
});

const VALID_KEYS =
  "The valid keys are log_level, log_to_file, http_port, region, ttl_seconds, cache_size, ssrf_headers, ssrf_env_variables, path_prefix, max_conn, ignore_transient_errors, validate_credentials, credentials_file_path, credentials_file_temporary_only, upstream_timeout_ms, refresh_ahead, refresh_ahead_percent, cache_max_bytes, warm_up_secrets, warm_up_tags, warm_up_discovery_seconds, listen_addresses, unix_socket_path, unix_socket_mode, unix_socket_require_token, parameter_store, metrics, allow_role_arn, max_assumed_roles, use_fips_endpoint, audit_log, file.";

Deno.test("listen_addresses takes 127.0.0.1 and ::1, each once, and nothing else", () => {
  assert.deepEqual(
    parseConfig('listen_addresses = ["::1"]').listenAddresses,
    ["::1"],
  );
  assert.deepEqual(
    parseConfig('listen_addresses = ["127.0.0.1", "::1", "127.0.0.1"]')
      .listenAddresses,
    ["127.0.0.1", "::1"],
  );
  for (
    const value of [
      '["0.0.0.0"]',
      '["::"]',
      '["localhost"]',
      '["[::1]"]',
      '["127.0.0.2"]',
      '["10.0.0.1"]',
      '"127.0.0.1"',
      "[1]",
      '["::1", "0.0.0.0"]',
    ]
  ) {
    assertConfigError(
      `listen_addresses = ${value}`,
      MESSAGES.listen_addresses,
    );
  }
});

Deno.test("listen_addresses may be empty only with a Unix socket", () => {
  assertConfigError("listen_addresses = []", MESSAGES.listen_addresses_empty);
  const config = parseConfig(
    'listen_addresses = []\nunix_socket_path = "/run/awssmaagent/agent.sock"',
  );
  assert.deepEqual(config.listenAddresses, []);
  assert.equal(config.unixSocketPath, "/run/awssmaagent/agent.sock");
});

Deno.test("unix_socket_path is an absolute path that fits sun_path", () => {
  const longest = `/${"a".repeat(106)}`;
  assert.equal(
    parseConfig(`unix_socket_path = "${longest}"`).unixSocketPath,
    longest,
  );
  for (
    const value of [
      '""',
      '"agent.sock"',
      '"./agent.sock"',
      `"/${"a".repeat(107)}"`,
      `"/${"\u00e9".repeat(54)}"`,
      '"/a\\u0000b"',
      "1",
      "true",
    ]
  ) {
    assertConfigError(
      `unix_socket_path = ${value}`,
      MESSAGES.unix_socket_path,
    );
  }
});

Deno.test("unix_socket_mode is an octal string giving the owner read and write", () => {
  assert.equal(parseConfig('unix_socket_mode = "0600"').unixSocketMode, 0o600);
  assert.equal(parseConfig('unix_socket_mode = "666"').unixSocketMode, 0o666);
  assert.equal(parseConfig('unix_socket_mode = "0777"').unixSocketMode, 0o777);
  for (
    const value of [
      '"0400"',
      '"0200"',
      '"0060"',
      '"0800"',
      '"1777"',
      '"00660"',
      '"66"',
      '"rw-rw----"',
      "660",
      "0o660",
      '""',
    ]
  ) {
    assertConfigError(
      `unix_socket_mode = ${value}`,
      MESSAGES.unix_socket_mode,
    );
  }
});

Deno.test("an unknown key is an error naming it", () => {
  assertConfigError(
    "http_prot = 2773",
    `Unknown configuration key: http_prot. ${VALID_KEYS}`,
  );
  assertConfigError(
    "[server]\nhttp_port = 2773",
    `Unknown configuration key: server. ${VALID_KEYS}`,
  );
  assertConfigError(
    "agent.http_port = 2773",
    `Unknown configuration key: agent. ${VALID_KEYS}`,
  );
});

Deno.test("__proto__, constructor and other prototype names are unknown keys", () => {
  for (
    const key of ["__proto__", "constructor", "toString", "hasOwnProperty"]
  ) {
    assertConfigError(
      `${key} = 1`,
      `Unknown configuration key: ${key}. ${VALID_KEYS}`,
    );
  }
  assertConfigError(
    "[__proto__]\nhttp_port = 1",
    `Unknown configuration key: __proto__. ${VALID_KEYS}`,
  );
});

Deno.test("a quoted key with odd characters is quoted in the one-line message", () => {
  assertConfigError(
    '"a\\nb" = 1',
    `Unknown configuration key: "a\\nb". ${VALID_KEYS}`,
  );
});

Deno.test("bad TOML syntax names the file, line and column on one line", () => {
  const text = 'http_port = 2773\nlog_level = "INFO\n';
  assert.throws(
    () => parseConfig(text, { source: "/etc/agent/config.toml" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /^Invalid TOML in configuration file \/etc\/agent\/config\.toml at line 2, column \d+: \S.*$/,
      );
      assert.ok(!error.message.includes("\n"));
      return true;
    },
  );
  assert.throws(
    () => parseConfig("http_port = \n"),
    {
      name: "ConfigError",
      message:
        "Invalid TOML in the configuration file at line 1, column 13: invalid value",
    },
  );
});

Deno.test("a key given twice is a TOML error", () => {
  assert.throws(
    () => parseConfig("http_port = 2773\nhttp_port = 2774"),
    /^ConfigError: Invalid TOML in the configuration file at line 2, column 1: /,
  );
});

Deno.test("the first bad key in the file is the one reported", () => {
  assertConfigError("max_conn = 0\nhttp_port = 1", MESSAGES.max_conn);
});

// The example from the original agent's guide, every key listed there.
const GUIDE_EXAMPLE = `
log_level = "INFO"
log_to_file = true
http_port = 2773
region = "us-west-2"
ttl_seconds = 300
cache_size = 1000
ssrf_headers = ["X-Aws-Parameters-Secrets-Token", "X-Vault-Token"]
ssrf_env_variables = ["AWS_TOKEN", "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"]
path_prefix = "/v1/"
max_conn = 800
`;

Deno.test("the guide's full example file parses to the defaults plus its region", () => {
  assert.deepEqual(parseConfig(GUIDE_EXAMPLE), {
    ...DEFAULT_CONFIG,
    region: "us-west-2",
  });
});

Deno.test("every key set at once is read into its field", () => {
  const config = parseConfig(`
log_level = "debug"
log_to_file = false
http_port = "2775"
region = "eu-central-1"
ttl_seconds = 0
cache_size = "0"
ssrf_headers = ["X-Token"]
ssrf_env_variables = ["MY_TOKEN", "OTHER"]
path_prefix = "/secrets/"
max_conn = 5
ignore_transient_errors = false
validate_credentials = false
credentials_file_path = "/etc/aws/creds"
credentials_file_temporary_only = true
upstream_timeout_ms = "250"
refresh_ahead = false
refresh_ahead_percent = 90
cache_max_bytes = "1048576"
warm_up_secrets = ["prod/db"]
warm_up_tags = [{ key = "team" }]
warm_up_discovery_seconds = 60
listen_addresses = ["::1", "127.0.0.1", "::1"]
unix_socket_path = "/run/awssmaagent/agent.sock"
unix_socket_mode = "0600"
unix_socket_require_token = false
parameter_store = true
metrics = true
allow_role_arn = true
max_assumed_roles = 3
use_fips_endpoint = true
audit_log = true

[[file]]
secret_id = "prod/db"
version_stage = "AWSPREVIOUS"
role_arn = "arn:aws:iam::123456789012:role/reader"
json_key = "password"
path = "/run/secrets/db_password"
mode = "0440"
`);
  assert.deepEqual(config, {
    logLevel: "DEBUG",
    logToFile: false,
    httpPort: 2775,
    region: "eu-central-1",
    ttlSeconds: 0,
    cacheSize: 0,
    ssrfHeaders: ["X-Token"],
    ssrfEnvVariables: ["MY_TOKEN", "OTHER"],
    pathPrefix: "/secrets/",
    maxConn: 5,
    ignoreTransientErrors: false,
    validateCredentials: false,
    credentialsFilePath: "/etc/aws/creds",
    credentialsFileTemporaryOnly: true,
    upstreamTimeoutMs: 250,
    refreshAhead: false,
    refreshAheadPercent: 90,
    cacheMaxBytes: 1048576,
    warmUpSecrets: [{ secretId: "prod/db" }],
    warmUpTags: [{ key: "team" }],
    warmUpDiscoverySeconds: 60,
    listenAddresses: ["::1", "127.0.0.1"],
    unixSocketPath: "/run/awssmaagent/agent.sock",
    unixSocketMode: 0o600,
    unixSocketRequireToken: false,
    parameterStore: true,
    metrics: true,
    allowRoleArn: true,
    maxAssumedRoles: 3,
    useFipsEndpoint: true,
    auditLog: true,
    files: [{
      secretId: "prod/db",
      versionStage: "AWSPREVIOUS",
      roleArn: "arn:aws:iam::123456789012:role/reader",
      jsonKey: "password",
      path: "/run/secrets/db_password",
      mode: 0o440,
    }],
  });
});

Deno.test("loadConfig reads and parses the file at the path", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/config.toml`;
    Deno.writeTextFileSync(path, 'http_port = 2999\nlog_level = "warn"\n');
    const config = loadConfig(path);
    assert.equal(config.httpPort, 2999);
    assert.equal(config.logLevel, "WARN");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("loadConfig names the file in syntax errors", () => {
  assert.match(
    loadError("conf.toml", () => "= 1"),
    /^Invalid TOML in configuration file conf\.toml at line 1, column 1: /,
  );
});

Deno.test("loadConfig reports a missing file by its path", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.equal(
      loadError(`${dir}/missing.toml`),
      `Configuration file ${dir}/missing.toml does not exist`,
    );
  } finally {
    Deno.removeSync(dir);
  }
});

Deno.test("loadConfig reports a directory by its path", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.equal(
      loadError(dir),
      `Cannot read configuration file ${dir}: it is a directory`,
    );
  } finally {
    Deno.removeSync(dir);
  }
});

Deno.test("loadConfig refuses a file that is not UTF-8", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/binary.toml`;
    Deno.writeFileSync(path, new Uint8Array([0xff, 0xfe, 0x00, 0x41]));
    assert.equal(
      loadError(path),
      `Cannot read configuration file ${path}: it is not UTF-8 text`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("loadConfig reports permission denied by its path", () => {
  assert.equal(
    loadError("/etc/agent.toml", () => {
      throw new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    }),
    "Cannot read configuration file /etc/agent.toml: permission denied",
  );
});

Deno.test("loadConfig names the sandbox permission to grant", () => {
  assert.equal(
    loadError("/srv/agent.toml", () => {
      throw new Deno.errors.NotCapable(
        'Requires read access to "/srv/agent.toml", run again with the --allow-read flag',
      );
    }),
    "Permission denied by the sandbox: grant read access to /srv/agent.toml (--allow-read=/srv/agent.toml; the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions)",
  );
});

Deno.test("loadConfig reports any other read failure on one line with the path", () => {
  assert.equal(
    loadError("/x.toml", () => {
      throw new Error("Input/output error (os error 5)\nmore");
    }),
    "Cannot read configuration file /x.toml: Input/output error (os error 5)",
  );
});

Deno.test("under a sandbox without read access, the real reader names the permission", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/load.ts`;
    const configModule =
      new URL("../../src/config/config.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { loadConfig } from ${JSON.stringify(configModule)};
try { loadConfig(${
        JSON.stringify(`${dir}/config.toml`)
      }); } catch (e) { console.log(e.message); }`,
    );
    await Deno.writeTextFile(`${dir}/config.toml`, "http_port = 2773\n");
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--no-lock",
        `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
        script,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(
      new TextDecoder().decode(stdout).trim(),
      `Permission denied by the sandbox: grant read access to ${dir}/config.toml (--allow-read=${dir}/config.toml; the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("warm_up_tags takes tag filters: a key, optional values, an optional role", () => {
  const role = "arn:aws:iam::123456789012:role/reader";
  const config = parseConfig(
    `allow_role_arn = true
warm_up_tags = [
  { key = "team", values = ["payments", "billing", "payments"] },
  { key = "aws:cloudformation:stack-name" },
  { key = "env", values = ["prod", ""], role_arn = "${role}" },
]`,
  );
  assert.deepEqual(config.warmUpTags, [
    { key: "team", values: ["payments", "billing"] },
    { key: "aws:cloudformation:stack-name" },
    { key: "env", values: ["prod", ""], roleArn: role },
  ]);
  assert.ok(Object.isFrozen(config.warmUpTags));
  assert.ok(config.warmUpTags.every(Object.isFrozen));
  assert.equal(config.warmUpDiscoverySeconds, undefined);
  const tooMany = JSON.stringify(
    Array.from({ length: 11 }, (_, i) => ({ key: `k${i}` })),
  ).replaceAll('"key":', "key =").replaceAll(":", "=");
  for (
    const value of [
      '"team"',
      '["team"]',
      "[{}]",
      '[{ values = ["a"] }]',
      "[{ key = 1 }]",
      '[{ key = "team", values = "a" }]',
      '[{ key = "team", values = [1] }]',
      '[{ key = "team", role_arn = 1 }]',
      '[{ key = "team", value = "a" }]',
      tooMany,
    ]
  ) {
    assertConfigError(`warm_up_tags = ${value}`, MESSAGES.warm_up_tags);
  }
  for (
    const value of [
      '[{ key = "" }]',
      `[{ key = "${"k".repeat(129)}" }]`,
      '[{ key = "!team" }]',
      '[{ key = "team", values = [] }]',
      '[{ key = "team", values = ["a\\nb"] }]',
      `[{ key = "team", values = ["${"v".repeat(257)}"] }]`,
      `[{ key = "team", values = ${
        JSON.stringify(Array.from({ length: 11 }, (_, i) => `v${i}`))
      } }]`,
      '[{ key = "caf\u00e9" }]',
    ]
  ) {
    assertConfigError(`warm_up_tags = ${value}`, MESSAGES.warm_up_tags_text);
  }
  assert.equal(
    parseConfig(`warm_up_tags = [{ key = "${"k".repeat(128)}" }]`)
      .warmUpTags.length,
    1,
  );
  assertConfigError(
    `allow_role_arn = true\nwarm_up_tags = [{ key = "env", role_arn = "arn:aws:iam::1:role/x" }]`,
    "The role_arn of warm-up tag env in the configuration file isn't valid: invalid roleArn format, expected arn:<partition>:iam::<account>:role/<name>.",
  );
  assertConfigError(
    `warm_up_tags = [{ key = "env", role_arn = "${role}" }]`,
    MESSAGES.warm_up_secrets_role_without_allow,
  );
});

Deno.test("warm_up_discovery_seconds is 1 to 86400", () => {
  assert.equal(
    parseConfig("warm_up_discovery_seconds = 1").warmUpDiscoverySeconds,
    1,
  );
  assert.equal(
    parseConfig('warm_up_discovery_seconds = "86400"').warmUpDiscoverySeconds,
    86400,
  );
  for (const value of ["0", "86401", "1.5", '"soon"', "-1"]) {
    assertConfigError(
      `warm_up_discovery_seconds = ${value}`,
      MESSAGES.warm_up_discovery_seconds,
    );
  }
});

Deno.test("credentials_file_temporary_only takes TOML booleans and needs credentials_file_path", () => {
  for (const value of ['"true"', "1", "[true]"]) {
    assertConfigError(
      `credentials_file_path = "c"\ncredentials_file_temporary_only = ${value}`,
      "The value of credentials_file_temporary_only in the configuration file must be true or false.",
    );
  }
  assertConfigError(
    "credentials_file_temporary_only = true",
    "credentials_file_temporary_only = true needs credentials_file_path in the configuration file.",
  );
  assert.equal(
    parseConfig("credentials_file_temporary_only = false")
      .credentialsFileTemporaryOnly,
    false,
  );
  assert.equal(
    parseConfig(
      'credentials_file_temporary_only = true\ncredentials_file_path = "c"',
    ).credentialsFileTemporaryOnly,
    true,
  );
});
