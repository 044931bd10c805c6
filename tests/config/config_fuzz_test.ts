import assert from "node:assert/strict";
import { parse } from "smol-toml";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  parseConfig,
} from "../../src/config/config.ts";
import {
  forAll,
  fuzzSettings,
  type SeededRandom,
} from "../support/seeded_random.ts";
import { FILE_MESSAGES } from "./_file_messages.ts";

/** One row of the key table, as the contract and config.ts document it. */
type KeySpec =
  & { readonly key: string; readonly field: keyof Config }
  & (
    | {
      readonly kind: "int";
      readonly min: number;
      readonly max: number;
      readonly message: string;
    }
    | { readonly kind: "bool" }
    | { readonly kind: "level"; readonly message: string }
    | { readonly kind: "string"; readonly message: string }
    | { readonly kind: "prefix"; readonly message: string }
    | {
      readonly kind: "list";
      readonly empty: string;
      readonly message: string;
      readonly item: RegExp;
    }
    | {
      readonly kind: "secrets";
      readonly message: string;
      readonly tooLong: string;
    }
    | {
      readonly kind: "tags";
      readonly message: string;
      readonly textMessage: string;
    }
    | { readonly kind: "addresses"; readonly message: string }
    | { readonly kind: "socket"; readonly message: string }
    | { readonly kind: "mode"; readonly message: string }
    | { readonly kind: "files"; readonly message: string }
  );

const SPECS: readonly KeySpec[] = [
  {
    key: "log_level",
    field: "logLevel",
    kind: "level",
    message:
      "The log level specified in the configuration file isn't valid. The log level must be DEBUG, INFO, WARN, ERROR, or NONE.",
  },
  { key: "log_to_file", field: "logToFile", kind: "bool" },
  {
    key: "http_port",
    field: "httpPort",
    kind: "int",
    min: 1024,
    max: 65535,
    message:
      "The HTTP port specified in the configuration file isn't valid. The HTTP port must be in the range 1024 to 65535.",
  },
  {
    key: "region",
    field: "region",
    kind: "string",
    message:
      "The region specified in the configuration file must be a non-empty string.",
  },
  {
    key: "ttl_seconds",
    field: "ttlSeconds",
    kind: "int",
    min: 0,
    max: 3600,
    message:
      "The TTL in seconds specified in the configuration file isn't valid. The TTL in seconds must be in the range 0 to 3600.",
  },
  {
    key: "cache_size",
    field: "cacheSize",
    kind: "int",
    min: 0,
    max: 1000,
    message:
      "The cache size specified in the configuration file isn't valid. The cache size must be in the range 0 to 1000.",
  },
  {
    key: "ssrf_headers",
    field: "ssrfHeaders",
    kind: "list",
    empty: "The list of SSRF headers in the configuration file can't be empty.",
    message:
      'The list of SSRF headers in the configuration file must be a list of HTTP header names, such as ["X-Aws-Parameters-Secrets-Token"].',
    item: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
  },
  {
    key: "ssrf_env_variables",
    field: "ssrfEnvVariables",
    kind: "list",
    empty:
      "The list of SSRF environment variables in the configuration file can't be empty.",
    message:
      'The list of SSRF environment variables in the configuration file must be a list of environment variable names, such as ["AWS_TOKEN"].',
    item: /^[^=\0]+$/,
  },
  {
    key: "path_prefix",
    field: "pathPrefix",
    kind: "prefix",
    message:
      "The path prefix specified in the configuration file must begin with /.",
  },
  {
    key: "max_conn",
    field: "maxConn",
    kind: "int",
    min: 1,
    max: 1000,
    message:
      "The maximum number of connections specified in the configuration file isn't valid. The maximum number of connections must be in the range 1 to 1000.",
  },
  {
    key: "ignore_transient_errors",
    field: "ignoreTransientErrors",
    kind: "bool",
  },
  { key: "validate_credentials", field: "validateCredentials", kind: "bool" },
  {
    key: "credentials_file_path",
    field: "credentialsFilePath",
    kind: "string",
    message:
      "The credentials file path specified in the configuration file must be a non-empty string.",
  },
  {
    key: "credentials_file_temporary_only",
    field: "credentialsFileTemporaryOnly",
    kind: "bool",
  },
  {
    key: "upstream_timeout_ms",
    field: "upstreamTimeoutMs",
    kind: "int",
    min: 100,
    max: 60000,
    message:
      "The upstream timeout specified in the configuration file isn't valid. The upstream timeout in milliseconds must be in the range 100 to 60000.",
  },
  { key: "refresh_ahead", field: "refreshAhead", kind: "bool" },
  {
    key: "refresh_ahead_percent",
    field: "refreshAheadPercent",
    kind: "int",
    min: 50,
    max: 95,
    message:
      "The refresh-ahead percentage specified in the configuration file isn't valid. The refresh-ahead percentage must be in the range 50 to 95.",
  },
  {
    key: "cache_max_bytes",
    field: "cacheMaxBytes",
    kind: "int",
    min: 65536,
    max: 1073741824,
    message:
      "The maximum cache size in bytes specified in the configuration file isn't valid. The maximum cache size in bytes must be in the range 65536 to 1073741824.",
  },
  {
    key: "warm_up_secrets",
    field: "warmUpSecrets",
    kind: "secrets",
    message:
      'The list of warm-up secrets in the configuration file must be a list of secret names or ARNs, or of tables of a secret_id and a role_arn, such as ["prod/db", { secret_id = "shared/db", role_arn = "arn:aws:iam::123456789012:role/reader" }].',
    tooLong:
      "The list of warm-up secrets in the configuration file can't hold more than 1000 secrets.",
  },
  {
    key: "warm_up_tags",
    field: "warmUpTags",
    kind: "tags",
    message:
      'The list of warm-up tags in the configuration file must be a list of at most 10 tables of a key, optional values and an optional role_arn, such as [{ key = "team", values = ["payments"] }].',
    textMessage:
      "A warm-up tag in the configuration file isn't valid: its key must be 1 to 128 and each of its 1 to 10 values at most 256 letters, digits, spaces or the characters : _ @ / + = . -",
  },
  {
    key: "warm_up_discovery_seconds",
    field: "warmUpDiscoverySeconds",
    kind: "int",
    min: 1,
    max: 86400,
    message:
      "The warm-up discovery period specified in the configuration file isn't valid. The warm-up discovery period in seconds must be in the range 1 to 86400.",
  },
  {
    key: "listen_addresses",
    field: "listenAddresses",
    kind: "addresses",
    message:
      'The list of listen addresses in the configuration file must be a list of loopback addresses, 127.0.0.1 or ::1, such as ["127.0.0.1", "::1"].',
  },
  {
    key: "unix_socket_path",
    field: "unixSocketPath",
    kind: "socket",
    message:
      "The Unix socket path specified in the configuration file must be an absolute path of at most 107 bytes.",
  },
  {
    key: "unix_socket_mode",
    field: "unixSocketMode",
    kind: "mode",
    message:
      'The Unix socket mode specified in the configuration file isn\'t valid. The Unix socket mode must be an octal string, such as "0660", that gives the owner read and write access.',
  },
  {
    key: "unix_socket_require_token",
    field: "unixSocketRequireToken",
    kind: "bool",
  },
  { key: "parameter_store", field: "parameterStore", kind: "bool" },
  { key: "metrics", field: "metrics", kind: "bool" },
  { key: "allow_role_arn", field: "allowRoleArn", kind: "bool" },
  {
    key: "max_assumed_roles",
    field: "maxAssumedRoles",
    kind: "int",
    min: 1,
    max: 100,
    message:
      "The maximum number of assumed roles specified in the configuration file isn't valid. The maximum number of assumed roles must be in the range 1 to 100.",
  },
  { key: "use_fips_endpoint", field: "useFipsEndpoint", kind: "bool" },
  { key: "audit_log", field: "auditLog", kind: "bool" },
  {
    key: "file",
    field: "files",
    kind: "files",
    message:
      "The file key in the configuration file must be an array of tables: write each entry as a [[file]] section with secret_id and path.",
  },
];

const FILE_FIELDS = [
  "secret_id",
  "version_stage",
  "role_arn",
  "json_key",
  "path",
  "mode",
];
const ROLE_ARN =
  /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9_+=,.@\/-]{1,512}$/;
/** Whether a message is one of the `[[file]]` messages, for any entry number. */
function isFileMessage(message: string): boolean {
  if (message.includes("\n")) return false;
  const templates = [
    FILE_MESSAGES.unknownKey(0, "KEY"),
    ...FILE_FIELDS.map((key) => FILE_MESSAGES.missing(0, key)),
    FILE_MESSAGES.secretId(0),
    FILE_MESSAGES.versionStage(0),
    FILE_MESSAGES.roleArn(0),
    FILE_MESSAGES.roleArnNotAllowed(0),
    FILE_MESSAGES.jsonKey(0),
    FILE_MESSAGES.path(0),
    FILE_MESSAGES.mode(0),
    FILE_MESSAGES.samePath(0, 0, "PATH"),
  ];
  return templates.some((template) => {
    const pattern = template.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      .replaceAll("0", "\\d+").replace("KEY", ".+").replace("PATH", "/.*");
    return new RegExp(`^${pattern}$`).test(message);
  });
}
/** Reported once every key is valid, when no address and no socket is left. */
const NOTHING_TO_LISTEN_ON =
  "The list of listen addresses in the configuration file can't be empty unless unix_socket_path is set.";
/** Reported next, when temporary credentials only are asked for without a file. */
const TEMPORARY_WITHOUT_FILE =
  "credentials_file_temporary_only = true needs credentials_file_path in the configuration file.";
const ADDRESSES = ["127.0.0.1", "::1"];

const SPEC_BY_KEY = new Map(SPECS.map((spec) => [spec.key, spec]));
const VALID_KEYS = `The valid keys are ${
  SPECS.map((spec) => spec.key).join(", ")
}.`;
const KNOWN_MESSAGES = new Set(
  SPECS.flatMap((spec) => [
    "message" in spec
      ? spec.message
      : `The value of ${spec.key} in the configuration file must be true or false.`,
    ..."empty" in spec ? [spec.empty] : [],
    ..."tooLong" in spec ? [spec.tooLong] : [],
    ..."textMessage" in spec ? [spec.textMessage] : [],
  ]).concat(NOTHING_TO_LISTEN_ON, TEMPORARY_WITHOUT_FILE),
);
const UNKNOWN_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "http_prot",
  "Log_Level",
  "HTTP_PORT",
  "server",
  "1",
  "0",
  "a.b",
  "",
  "caf\u00e9",
  "new\nline",
];
const SECRET_ID = /^[^\s\p{Cc}]{1,2048}$/u;
const LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "NONE"];

function unknownKeyMessage(key: string): string {
  const shown = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return `Unknown configuration key: ${shown}. ${VALID_KEYS}`;
}

/** A TOML value: how it is written, and what a TOML parser makes of it. */
interface TomlValue {
  readonly text: string;
  readonly value: unknown;
}

const DATE = Symbol("date");

function tomlString(value: string, random: SeededRandom): TomlValue {
  const isLiteral = random.chance(0.2) && /^[^'\p{Cc}]*$/u.test(value);
  const text = isLiteral
    ? `'${value}'`
    // JSON escapes suit TOML basic strings, except that TOML wants DEL escaped.
    : JSON.stringify(value).replaceAll("\x7f", "\\u007F");
  return { text, value };
}

function integerText(value: bigint, random: SeededRandom): string {
  if (value >= 0n && random.chance(0.2)) {
    const [prefix, radix] = random.pick(
      [["0x", 16], ["0o", 8], ["0b", 2]] as const,
    );
    return `${prefix}${value.toString(radix)}`;
  }
  const digits = (value < 0n ? -value : value).toString();
  const grouped = random.chance(0.2) && digits.length > 1
    ? `${digits[0]}_${digits.slice(1)}`
    : digits;
  return value < 0n
    ? `-${grouped}`
    : random.chance(0.1)
    ? `+${grouped}`
    : grouped;
}

function interestingInteger(random: SeededRandom): bigint {
  const spec = random.pick(SPECS.filter((s) => s.kind === "int"));
  const { min, max } = spec as { min: number; max: number };
  return BigInt(random.pick([
    min - 1,
    min,
    max,
    max + 1,
    random.int(min, max),
    0,
    1,
    -1,
    -random.int(1, 70000),
    random.int(0, 2 ** 31),
    Number.MAX_SAFE_INTEGER,
  ])) * (random.chance(0.02) ? 2n ** 10n : 1n);
}

function scalar(random: SeededRandom): TomlValue {
  switch (random.int(0, 9)) {
    case 0:
    case 1: {
      const value = random.chance(0.05)
        ? random.pick([2n ** 63n - 1n, -(2n ** 63n)])
        : interestingInteger(random);
      return { text: integerText(value, random), value };
    }
    case 2: {
      const digits = random.pick([
        String(interestingInteger(random)),
        `00${random.int(0, 5000)}`,
        "9".repeat(random.int(1, 40)),
        "",
        " 80",
        "80 ",
        "+80",
        "1e3",
        "0x10",
        "3.5",
        "\u0663\u0660\u0660",
        "\uff18\uff10",
      ]);
      return tomlString(digits, random);
    }
    case 3: {
      const [text, value] = random.pick(
        [
          ["300.0", 300],
          ["3e2", 300],
          ["2773.0", 2773],
          ["1.5", 1.5],
          ["-0.0", -0],
          ["inf", Infinity],
          ["-inf", -Infinity],
          ["nan", NaN],
          ["1e400", Infinity],
        ] as const,
      );
      return { text, value };
    }
    case 4:
      return random.pick([{ text: "true", value: true }, {
        text: "false",
        value: false,
      }]);
    case 5: {
      const level = random.pick([...LEVELS, "INF0", "TRACE", "WARNING", ""]);
      const cased = [...level].map((c) =>
        random.chance(0.5) ? c.toLowerCase() : c
      ).join("");
      return tomlString(
        random.chance(0.1) ? cased.replace(/i/i, "\u0131") : cased,
        random,
      );
    }
    case 6:
      return tomlString(
        random.pick([
          "/v1/",
          "/",
          "v1/",
          "",
          " /v1/",
          "/secrets/",
          "us-east-1",
          "/etc/aws/credentials",
          "\u0000",
          "x".repeat(random.int(1, 3000)),
          "caf\u00e9",
          "\x7f",
          "\n",
        ]),
        random,
      );
    case 7:
      return { text: "1979-05-27T07:32:00Z", value: DATE };
    case 8:
      return random.pick([{ text: "{}", value: {} }, {
        text: "{ a = 1 }",
        value: { a: 1n },
      }]);
    default:
      return tomlString(listItem(random), random);
  }
}

function listItem(random: SeededRandom): string {
  return random.pick([
    "X-Token",
    "X-Aws-Parameters-Secrets-Token",
    "AWS_TOKEN",
    "X Token",
    "X-Token:",
    "",
    "A=B",
    "A\u0000B",
    "prod/db",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    "tab\there",
    "x".repeat(2048),
    "x".repeat(2049),
    "\u00e9t\u00e9",
  ]);
}

function anyValue(random: SeededRandom, depth = 0): TomlValue {
  if (depth < 2 && random.chance(0.3)) {
    const items = random.list(
      0,
      4,
      () =>
        random.chance(0.7)
          ? tomlString(listItem(random), random)
          : anyValue(random, depth + 1),
    );
    return {
      text: `[${items.map((item) => item.text).join(", ")}]`,
      value: items.map((item) => item.value),
    };
  }
  return scalar(random);
}

/** The contract's rule for one key: the setting it yields, or its message. */
function expectedSetting(
  spec: KeySpec,
  value: unknown,
): { value: unknown } | { problem: string } {
  const valid = (v: unknown) => ({ value: v });
  switch (spec.kind) {
    case "int": {
      const n = typeof value === "bigint"
        ? value
        : typeof value === "string" && /^[0-9]+$/.test(value)
        ? BigInt(value)
        : undefined;
      return n !== undefined && n >= BigInt(spec.min) && n <= BigInt(spec.max)
        ? valid(Number(n))
        : { problem: spec.message };
    }
    case "bool":
      return typeof value === "boolean" ? valid(value) : {
        problem:
          `The value of ${spec.key} in the configuration file must be true or false.`,
      };
    case "level": {
      // Any case, in ASCII: "\u0131nfo" (dotless i) is not INFO.
      const level = typeof value === "string"
        ? LEVELS.find((l) =>
          l.toLowerCase() === value.replace(/[A-Z]/g, (c) => c.toLowerCase())
        )
        : undefined;
      return level ? valid(level) : { problem: spec.message };
    }
    case "string":
      return typeof value === "string" && value !== ""
        ? valid(value)
        : { problem: spec.message };
    case "prefix":
      return typeof value === "string" && value.startsWith("/")
        ? valid(value)
        : { problem: spec.message };
    case "list":
      if (!Array.isArray(value)) return { problem: spec.message };
      if (value.length === 0) return { problem: spec.empty };
      return value.every((item) =>
          typeof item === "string" && spec.item.test(item)
        )
        ? valid(value)
        : { problem: spec.message };
    case "secrets":
      if (!Array.isArray(value)) return { problem: spec.message };
      {
        // A string, or (as generated here) a table holding only a secret_id.
        const ids = value.map((item) =>
          typeof item === "object" && item !== null && !Array.isArray(item) &&
            Object.keys(item).length === 1
            ? item.secret_id
            : item
        );
        if (
          !ids.every((id) => typeof id === "string" && SECRET_ID.test(id))
        ) return { problem: spec.message };
        return new Set(ids).size > 1000
          ? { problem: spec.tooLong }
          : valid([...new Set(ids)].map((secretId) => ({ secretId })));
      }
    case "tags":
      return expectedTags(spec, value);
    case "addresses":
      return Array.isArray(value) &&
          value.every((item) => ADDRESSES.includes(item))
        ? valid([...new Set(value)])
        : { problem: spec.message };
    case "socket":
      return typeof value === "string" && value.startsWith("/") &&
          !value.includes("\0") &&
          new TextEncoder().encode(value).byteLength <= 107
        ? valid(value)
        : { problem: spec.message };
    case "mode": {
      const mode = typeof value === "string" && /^0?[0-7]{3}$/.test(value)
        ? parseInt(value, 8)
        : 0;
      return (mode & 0o600) === 0o600 ? valid(mode) : { problem: spec.message };
    }
    case "files":
      return expectedFiles(spec.message, value);
  }
}

/** The `[[file]]` rules, entry by entry, field by field. */
function expectedFiles(
  notTables: string,
  value: unknown,
): { value: unknown } | { problem: string } {
  if (!Array.isArray(value)) return { problem: notTables };
  const entries: Record<string, unknown>[] = [];
  for (const [index, table] of value.entries()) {
    const n = index + 1;
    if (
      typeof table !== "object" || table === null || Array.isArray(table)
    ) return { problem: notTables };
    const fields = table as Record<string, unknown>;
    const keys = Object.keys(fields);
    const unknown = keys.find((key) => !FILE_FIELDS.includes(key));
    if (unknown !== undefined) {
      return { problem: FILE_MESSAGES.unknownKey(n, unknown) };
    }
    const has = (key: string) => keys.includes(key);
    const { secret_id, path, version_stage, role_arn, json_key, mode } = fields;
    if (!has("secret_id")) {
      return { problem: FILE_MESSAGES.missing(n, "secret_id") };
    }
    if (typeof secret_id !== "string" || !SECRET_ID.test(secret_id)) {
      return { problem: FILE_MESSAGES.secretId(n) };
    }
    if (!has("path")) return { problem: FILE_MESSAGES.missing(n, "path") };
    if (
      typeof path !== "string" || !/^(\/[^/\0]+)+$/.test(path) ||
      path.split("/").some((segment) => segment === "." || segment === "..")
    ) return { problem: FILE_MESSAGES.path(n) };
    if (
      has("version_stage") &&
      !(typeof version_stage === "string" &&
        /^[^\s\p{Cc}]{1,256}$/u.test(version_stage))
    ) return { problem: FILE_MESSAGES.versionStage(n) };
    if (
      has("role_arn") &&
      !(typeof role_arn === "string" && ROLE_ARN.test(role_arn))
    ) return { problem: FILE_MESSAGES.roleArn(n) };
    if (has("json_key") && !(typeof json_key === "string" && json_key !== "")) {
      return { problem: FILE_MESSAGES.jsonKey(n) };
    }
    const bits = !has("mode")
      ? 0o600
      : typeof mode === "string" && /^0?[0-7]{3}$/.test(mode)
      ? parseInt(mode, 8)
      : 0;
    if ((bits & 0o400) === 0 || (bits & 0o002) !== 0) {
      return { problem: FILE_MESSAGES.mode(n) };
    }
    const first = entries.findIndex((entry) => entry.path === path);
    if (first >= 0) {
      return { problem: FILE_MESSAGES.samePath(first + 1, n, path) };
    }
    entries.push({
      secretId: secret_id,
      ...(has("version_stage") ? { versionStage: version_stage } : {}),
      ...(has("role_arn") ? { roleArn: role_arn } : {}),
      ...(has("json_key") ? { jsonKey: json_key } : {}),
      path,
      mode: bits,
    });
  }
  return { value: entries };
}

interface Document {
  readonly text: string;
  /** The setting for each valid key, by field. */
  readonly settings: Partial<Record<keyof Config, unknown>>;
  /** The messages the loader may report: one per bad key. */
  readonly problems: readonly string[];
}

function renderKey(key: string, random: SeededRandom): string {
  return /^[A-Za-z0-9_-]+$/.test(key) && random.chance(0.8)
    ? key
    : JSON.stringify(key);
}

/** A TOML document of real and unknown keys with values of every TOML type. */
function document(random: SeededRandom): Document {
  const keys = new Set<string>();
  for (let i = random.int(0, 6); i > 0; i--) {
    keys.add(
      random.chance(0.85) ? random.pick(SPECS).key : random.pick(UNKNOWN_KEYS),
    );
  }
  const lines: string[] = [];
  const tables: string[] = [];
  const settings: Partial<Record<keyof Config, unknown>> = {};
  const problems: string[] = [];
  for (const key of keys) {
    const spec = SPEC_BY_KEY.get(key);
    const value = spec !== undefined && random.chance(0.5)
      ? validValue(spec, random)
      : anyValue(random);
    if (random.chance(0.1)) {
      // A [table] section: a table, whatever the key.
      tables.push(
        `[${renderKey(key, random)}]\n${
          random.pick(["", "a = 1", "http_port = 2773"])
        }`,
      );
      if (spec === undefined) problems.push(unknownKeyMessage(key));
      else problems.push(expectedProblem(spec, {}));
      continue;
    }
    lines.push(`${renderKey(key, random)} = ${value.text}`);
    if (spec === undefined) {
      problems.push(unknownKeyMessage(key));
      continue;
    }
    const outcome = expectedSetting(spec, value.value);
    if ("problem" in outcome) problems.push(outcome.problem);
    else settings[spec.field] = outcome.value;
  }
  const addresses = settings.listenAddresses as unknown[] | undefined;
  if (
    problems.length === 0 && addresses?.length === 0 &&
    settings.unixSocketPath === undefined
  ) problems.push(NOTHING_TO_LISTEN_ON);
  if (
    problems.length === 0 && settings.credentialsFileTemporaryOnly === true &&
    settings.credentialsFilePath === undefined
  ) problems.push(TEMPORARY_WITHOUT_FILE);
  const files = (settings.files ?? []) as { roleArn?: string }[];
  const withRole = files.findIndex((file) => file.roleArn !== undefined);
  if (
    withRole >= 0 && settings.allowRoleArn !== true &&
    !problems.some((problem) => problem !== NOTHING_TO_LISTEN_ON)
  ) problems.push(FILE_MESSAGES.roleArnNotAllowed(withRole + 1));
  const comment = random.chance(0.2) ? "# a comment\n" : "";
  return {
    text: comment +
      [...lines, ...tables].join(random.pick(["\n", "\r\n", "\n\n"])),
    settings,
    problems,
  };
}

function expectedProblem(spec: KeySpec, value: unknown): string {
  const outcome = expectedSetting(spec, value);
  assert.ok("problem" in outcome);
  return outcome.problem;
}

/** The tag filters' rules, item by item in order as the contract states them. */
function expectedTags(
  spec: { readonly message: string; readonly textMessage: string },
  value: unknown,
): { value: unknown } | { problem: string } {
  if (!Array.isArray(value) || value.length > 10) {
    return { problem: spec.message };
  }
  const text = /^[a-zA-Z0-9 :_@/+=.-]*$/;
  const filters = [];
  for (const item of value) {
    const isTable = typeof item === "object" && item !== null &&
      !Array.isArray(item);
    if (
      !isTable || typeof item.key !== "string" ||
      Object.keys(item).some((name) => name !== "key" && name !== "values") ||
      (item.values !== undefined &&
        !(Array.isArray(item.values) &&
          item.values.every((v: unknown) => typeof v === "string")))
    ) return { problem: spec.message };
    const { key, values } = item as { key: string; values?: string[] };
    if (
      key.length < 1 || key.length > 128 || !text.test(key) ||
      (values !== undefined &&
        (values.length < 1 || values.length > 10 ||
          !values.every((v) => v.length <= 256 && text.test(v))))
    ) return { problem: spec.textMessage };
    filters.push(
      values === undefined ? { key } : { key, values: [...new Set(values)] },
    );
  }
  return { value: filters };
}

/** A value the key takes, so that accepted documents are common too. */
function validValue(spec: KeySpec, random: SeededRandom): TomlValue {
  switch (spec.kind) {
    case "int": {
      const n = BigInt(
        random.pick([spec.min, spec.max, random.int(spec.min, spec.max)]),
      );
      return random.chance(0.3)
        ? tomlString(String(n), random)
        : { text: integerText(n, random), value: n };
    }
    case "bool":
      return random.pick([{ text: "true", value: true }, {
        text: "false",
        value: false,
      }]);
    case "level":
      return tomlString(
        [...random.pick(LEVELS)].map((c) =>
          random.chance(0.5) ? c.toLowerCase() : c
        ).join(""),
        random,
      );
    case "string":
    case "prefix":
    case "socket":
      return tomlString(random.pick(["/v1/", "/", "/a b/", "/\u00e9"]), random);
    case "mode":
      return tomlString(random.pick(["0600", "660", "0777", "0640"]), random);
    case "tags": {
      const filters = random.list(0, 3, () => {
        const key = tomlString(random.pick(["team", "a:b", "env"]), random);
        const values = random.list(
          1,
          3,
          () => tomlString(random.pick(["prod", "", "x y"]), random),
        );
        return random.chance(0.5)
          ? { text: `{ key = ${key.text} }`, value: { key: key.value } }
          : {
            text: `{ key = ${key.text}, values = [${
              values.map((v) => v.text).join(", ")
            }] }`,
            value: { key: key.value, values: values.map((v) => v.value) },
          };
      });
      return {
        text: `[${filters.map((f) => f.text).join(", ")}]`,
        value: filters.map((f) => f.value),
      };
    }
    case "addresses": {
      const items = random.list(
        0,
        3,
        () => tomlString(random.pick(ADDRESSES), random),
      );
      return {
        text: `[${items.map((item) => item.text).join(",")}]`,
        value: items.map((item) => item.value),
      };
    }
    case "files":
      return fileEntries(random);
    case "list":
    case "secrets": {
      const items = random.list(1, 3, () => {
        const item = tomlString(
          random.pick(["X-Token", "AWS_TOKEN", "prod_db"]),
          random,
        );
        return spec.kind === "secrets" && random.chance(0.3)
          ? {
            text: `{ secret_id = ${item.text} }`,
            value: { secret_id: item.value },
          }
          : item;
      });
      return {
        text: `[${items.map((item) => item.text).join(",")}]`,
        value: items.map((item) => item.value),
      };
    }
  }
}

/** Inline `[[file]]` tables, mostly valid, with near misses in each field. */
function fileEntries(random: SeededRandom): TomlValue {
  const field = (good: readonly string[], bad: readonly string[]) =>
    tomlString(
      random.chance(0.85) ? random.pick(good) : random.pick(bad),
      random,
    );
  const tables = random.list(0, 3, () => {
    const fields: [string, TomlValue][] = [];
    if (random.chance(0.95)) {
      fields.push(["secret_id", field(["prod/db", "a"], ["", "a b"])]);
    }
    if (random.chance(0.95)) {
      fields.push([
        "path",
        field(["/run/s/a", "/run/s/b", "/srv/.x"], [
          "run/a",
          "/run/../a",
          "/run/s/",
          "/",
        ]),
      ]);
    }
    const optional: [string, readonly string[], readonly string[]][] = [
      ["version_stage", ["AWSCURRENT", "AWSPREVIOUS"], ["", "AWS CURRENT"]],
      ["role_arn", ["arn:aws:iam::123456789012:role/reader"], [
        "arn:aws:iam::1:role/x",
      ]],
      ["json_key", ["password", "a.b"], [""]],
      ["mode", ["0600", "440", "0640"], ["0602", "0200", "600 ", "0o600"]],
      ["secretId", [], []],
    ];
    for (const [name, good, bad] of optional) {
      if (!random.chance(name === "secretId" ? 0.03 : 0.3)) continue;
      fields.push([
        name,
        good.length === 0 ? { text: "1", value: 1n } : field(good, bad),
      ]);
    }
    const order = random.chance(0.5) ? fields : fields.toReversed();
    return {
      text: `{ ${order.map(([name, v]) => `${name} = ${v.text}`).join(", ")} }`,
      value: Object.fromEntries(order.map(([name, v]) => [name, v.value])),
    };
  });
  return {
    text: `[${tables.map((table) => table.text).join(", ")}]`,
    value: tables.map((table) => table.value),
  };
}

/** What holds for any accepted configuration: types, ranges, defaults, frozen. */
function assertSound(config: Config, givenKeys: ReadonlySet<string>): void {
  assert.ok(Object.isFrozen(config));
  assert.deepEqual(
    Object.keys(config).sort(),
    Object.keys(DEFAULT_CONFIG).sort(),
  );
  for (const spec of SPECS) {
    const value: unknown = config[spec.field];
    if (!givenKeys.has(spec.key)) {
      assert.deepEqual(
        value,
        DEFAULT_CONFIG[spec.field],
        `${spec.key} is its default`,
      );
      continue;
    }
    switch (spec.kind) {
      case "int":
        assert.ok(
          Number.isSafeInteger(value) && (value as number) >= spec.min &&
            (value as number) <= spec.max,
          `${spec.key} = ${String(value)} is out of range`,
        );
        break;
      case "bool":
        assert.equal(typeof value, "boolean", spec.key);
        break;
      case "level":
        assert.ok(LEVELS.includes(value as string), spec.key);
        break;
      case "string":
        assert.ok(typeof value === "string" && value !== "", spec.key);
        break;
      case "prefix":
      case "socket":
        assert.ok(typeof value === "string" && value.startsWith("/"), spec.key);
        break;
      case "mode":
        assert.ok(
          Number.isInteger(value) && ((value as number) & 0o600) === 0o600 &&
            (value as number) <= 0o777,
          spec.key,
        );
        break;
      case "tags":
        assert.ok(Array.isArray(value) && Object.isFrozen(value), spec.key);
        for (const filter of value as { key?: unknown }[]) {
          assert.ok(Object.isFrozen(filter) && typeof filter.key === "string");
        }
        break;
      case "files":
        assert.ok(Array.isArray(value) && Object.isFrozen(value), spec.key);
        for (const file of value as Config["files"]) {
          assert.ok(Object.isFrozen(file));
          assert.ok(SECRET_ID.test(file.secretId));
          assert.match(file.path, /^(\/[^/\0]+)+$/);
          assert.ok((file.mode & 0o400) !== 0 && (file.mode & 0o002) === 0);
          assert.ok(file.mode <= 0o777);
        }
        break;
      case "addresses":
        assert.ok(Array.isArray(value) && Object.isFrozen(value), spec.key);
        assert.ok(
          (value as unknown[]).every((a) => ADDRESSES.includes(a as string)),
        );
        break;
      case "list":
      case "secrets":
        assert.ok(Array.isArray(value) && Object.isFrozen(value), spec.key);
        for (const item of value as unknown[]) {
          const text = spec.kind === "list"
            ? item
            : (item as { secretId?: unknown }).secretId;
          assert.ok(
            typeof text === "string" &&
              (spec.kind === "list" ? spec.item : SECRET_ID).test(text),
            `${spec.key} item ${JSON.stringify(item)}`,
          );
        }
        if (spec.kind === "list") {
          assert.notEqual((value as unknown[]).length, 0);
        }
        break;
    }
  }
}

/** The message is one the module documents, on one line. */
function assertKnownMessage(
  error: ConfigError,
  source: string | undefined,
): void {
  const message = error.message;
  if (KNOWN_MESSAGES.has(message)) return;
  const where = source === undefined
    ? "the configuration file"
    : `configuration file ${source}`;
  const isUnknownKey = message.startsWith("Unknown configuration key: ") &&
    message.endsWith(`. ${VALID_KEYS}`) && !message.includes("\n");
  const isBadToml = message.startsWith(`Invalid TOML in ${where} at line `) &&
    /^Invalid TOML in .* at line \d+, column \d+: \S[^\n]*$/.test(message);
  const isNotUtf8 = source !== undefined &&
    message ===
      `Cannot read configuration file ${source}: it is not UTF-8 text`;
  assert.ok(
    isUnknownKey || isBadToml || isNotUtf8 || isFileMessage(message),
    `unexpected message ${JSON.stringify(message)}`,
  );
}

function outcomeOf(run: () => Config): Config | ConfigError {
  try {
    return run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    assert.fail(`threw something other than ConfigError: ${error}`);
  }
}

function showText(text: string): string {
  return text.length > 2000
    ? `${JSON.stringify(text.slice(0, 2000))}… (${text.length} chars)`
    : JSON.stringify(text);
}

Deno.test("config: generated documents are accepted exactly when every key is valid, with the defaults elsewhere", () => {
  forAll(fuzzSettings(3000), document, (doc) => {
    const outcome = outcomeOf(() => parseConfig(doc.text));
    if (outcome instanceof ConfigError) {
      assertKnownMessage(outcome, undefined);
      assert.ok(
        doc.problems.includes(outcome.message),
        `rejected with ${JSON.stringify(outcome.message)}; expected ${
          doc.problems.length === 0
            ? "acceptance"
            : JSON.stringify(doc.problems)
        }`,
      );
      return;
    }
    assert.deepEqual(doc.problems, [], "accepted a document with a bad key");
    assert.deepEqual(outcome, { ...DEFAULT_CONFIG, ...doc.settings });
    assertSound(outcome, new Set(Object.keys(parse(doc.text))));
  }, (doc) => showText(doc.text));
});

/** Damages a text: drops, repeats or replaces characters, or adds raw bytes. */
function mutated(random: SeededRandom): Uint8Array {
  let text = document(random).text;
  for (let i = random.int(1, 4); i > 0; i--) {
    const at = random.int(0, text.length);
    const insert = random.pick([
      "",
      "=",
      "[",
      "]",
      '"',
      "'",
      "\n",
      "#",
      ".",
      ",",
      "{",
      "}",
      "\\",
      "\\u",
      "\u0000",
      "__proto__",
      "constructor.",
      "[".repeat(random.int(1, 2000)),
      text.slice(0, random.int(0, 40)),
    ]);
    text = text.slice(0, at) + insert + text.slice(at + random.int(0, 3));
  }
  const bytes = new TextEncoder().encode(text);
  if (!random.chance(0.3)) return bytes;
  // Invalid UTF-8 too: stray continuation bytes, overlong forms, surrogates.
  const at = random.int(0, bytes.length);
  const junk = random.chance(0.5)
    ? random.pick([[0xff], [0x80], [0xc0, 0xae], [0xed, 0xa0, 0x80], [
      0xf4,
      0x90,
      0x80,
      0x80,
    ], [0xe0, 0xa4]])
    : [...random.bytes(random.int(1, 16))];
  return new Uint8Array([...bytes.slice(0, at), ...junk, ...bytes.slice(at)]);
}

Deno.test("config: damaged documents and random bytes only ever give a ConfigError with a documented message", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/config.toml`;
  try {
    forAll(
      fuzzSettings(3000),
      (random) =>
        random.chance(0.15)
          ? random.bytes(random.int(0, 200))
          : mutated(random),
      (bytes) => {
        Deno.writeFileSync(path, bytes);
        const outcome = outcomeOf(() => loadConfig(path));
        if (outcome instanceof ConfigError) {
          assertKnownMessage(outcome, path);
          return;
        }
        const text = new TextDecoder().decode(bytes);
        assertSound(outcome, new Set(Object.keys(parse(text))));
      },
      (bytes) =>
        showText(new TextDecoder().decode(bytes)) + ` bytes ${bytes.length}`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
