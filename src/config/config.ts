/**
 * The agent's configuration: the TOML file parsed once into a frozen, fully
 * typed object with every default applied. Each key is one row of the
 * key table below; the messages for bad values are the contract's.
 *
 * @module
 */

import {
  firstLine,
  grantHint,
  readFailureReason,
  readUtf8File,
} from "../failure_text.ts";
import { parse, TomlError } from "smol-toml";
import { LOG_LEVELS, type LogLevel } from "../log/log_level.ts";
import { INVALID_ROLE_ARN, isRoleArn } from "../aws/role_arn.ts";
import type { WarmUpEntry } from "../cache/warm_up.ts";
import type { TagFilter } from "../cache/tag_discovery.ts";
import { displayKey, isSecretId, octalMode } from "./value_checks.ts";
import {
  parseFileEntries,
  roleArnProblem,
  type SecretFile,
} from "./file_entries.ts";

export type { SecretFile } from "./file_entries.ts";

/** The agent's settings, every default applied. */
export interface Config {
  readonly logLevel: LogLevel;
  /** `./logs/secrets_manager_agent.log` when true, stdout/stderr otherwise. */
  readonly logToFile: boolean;
  readonly httpPort: number;
  /** Undefined: the AWS SDK's chain picks the region. */
  readonly region: string | undefined;
  /** 0 disables caching. */
  readonly ttlSeconds: number;
  /** 0 disables caching. */
  readonly cacheSize: number;
  readonly ssrfHeaders: readonly string[];
  readonly ssrfEnvVariables: readonly string[];
  readonly pathPrefix: string;
  readonly maxConn: number;
  readonly ignoreTransientErrors: boolean;
  readonly validateCredentials: boolean;
  /** Undefined: credentials come from the AWS SDK's chain. */
  readonly credentialsFilePath: string | undefined;
  /** Refuse long-term keys in `credentialsFilePath`: only credentials with a session token. */
  readonly credentialsFileTemporaryOnly: boolean;
  /** Per attempt on Secrets Manager and STS; past it the answer is 504. */
  readonly upstreamTimeoutMs: number;
  /** Renew entries being read in the background before they expire. */
  readonly refreshAhead: boolean;
  /** The earliest background renewal point, in percent of the TTL (jittered up to halfway to expiry). */
  readonly refreshAheadPercent: number;
  /** The most bytes of cached responses (bodies and keys, UTF-8); LRU entries are evicted beyond it. */
  readonly cacheMaxBytes: number;
  /** Secrets (each with the role to read it with, if any) fetched into the cache at start-up, in the background. */
  readonly warmUpSecrets: readonly WarmUpEntry[];
  /** Tags whose secrets are found with ListSecrets and kept warm. */
  readonly warmUpTags: readonly TagFilter[];
  /** Between ListSecrets rounds for `warmUpTags`; undefined: `ttlSeconds`. */
  readonly warmUpDiscoverySeconds: number | undefined;
  /** Loopback addresses served on `httpPort`; empty only with a Unix socket. */
  readonly listenAddresses: readonly ListenAddress[];
  /** A Unix domain socket served besides (or instead of) the addresses. */
  readonly unixSocketPath: string | undefined;
  /** The socket file's permission bits, which then guard access to it. */
  readonly unixSocketMode: number;
  /** Whether requests over the Unix socket must carry the SSRF token too. */
  readonly unixSocketRequireToken: boolean;
  /** Serve Parameter Store on `/systemsmanager/parameters/get`. */
  readonly parameterStore: boolean;
  /** Serve Prometheus metrics on `/metrics`. */
  readonly metrics: boolean;
  /** Accept a `roleArn` query parameter and read with that role's credentials. */
  readonly allowRoleArn: boolean;
  /** The most assumed roles whose credentials (and SDK clients) are kept. */
  readonly maxAssumedRoles: number;
  /** Use the SDK's FIPS endpoints (an `AWS_ENDPOINT_URL_*` still wins). */
  readonly useFipsEndpoint: boolean;
  /** One line per served secret or parameter, in its own log. */
  readonly auditLog: boolean;
  /** Secrets written to files (`[[file]]`), kept current in the background. */
  readonly files: readonly SecretFile[];
}

/** The loopback addresses the agent may listen on; never anything else. */
export type ListenAddress = "127.0.0.1" | "::1";

const LISTEN_ADDRESSES: readonly ListenAddress[] = ["127.0.0.1", "::1"];

/** The settings used when there is no configuration file. */
export const DEFAULT_CONFIG: Config = Object.freeze({
  logLevel: "INFO",
  logToFile: true,
  httpPort: 2773,
  region: undefined,
  ttlSeconds: 300,
  cacheSize: 1000,
  ssrfHeaders: Object.freeze([
    "X-Aws-Parameters-Secrets-Token",
    "X-Vault-Token",
  ]),
  ssrfEnvVariables: Object.freeze([
    "AWS_TOKEN",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  ]),
  pathPrefix: "/v1/",
  maxConn: 800,
  ignoreTransientErrors: true,
  validateCredentials: true,
  credentialsFilePath: undefined,
  credentialsFileTemporaryOnly: false,
  upstreamTimeoutMs: 5000,
  refreshAhead: true,
  refreshAheadPercent: 80,
  cacheMaxBytes: 64 * 1024 * 1024,
  warmUpSecrets: Object.freeze([]),
  warmUpTags: Object.freeze([]),
  warmUpDiscoverySeconds: undefined,
  listenAddresses: Object.freeze(["127.0.0.1" as const]),
  unixSocketPath: undefined,
  unixSocketMode: 0o660,
  unixSocketRequireToken: true,
  parameterStore: false,
  metrics: false,
  allowRoleArn: false,
  maxAssumedRoles: 10,
  useFipsEndpoint: false,
  auditLog: false,
  files: Object.freeze([]),
});

/** A configuration file that cannot be used; `message` is the line to print. */
export class ConfigError extends Error {
  /** `message` is the exact user-facing line. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** A key's value turned into its typed setting, or the message to show. */
type Parsed<T> = { readonly value: T } | { readonly problem: string };

/** Reads one TOML value; the key's own name is passed for generic messages. */
type ValueParser<T> = (raw: unknown, key: string) => Parsed<T>;

/** One row of the key table: the TOML key, the field it sets, its parser. */
interface KeyDescriptor<K extends keyof Config> {
  readonly key: string;
  readonly field: K;
  readonly parse: ValueParser<Config[K]>;
}

type AnyKeyDescriptor = { [K in keyof Config]: KeyDescriptor<K> }[keyof Config];

function integerIn(
  min: number,
  max: number,
  message: string,
): ValueParser<number> {
  return (raw) => {
    // Integers arrive as bigint (see parseConfig), so floats such as 300.0
    // or 3e2 are numbers here and refused like the original's integer types.
    let value: bigint | undefined;
    if (typeof raw === "bigint") value = raw;
    else if (typeof raw === "string" && /^[0-9]+$/.test(raw)) {
      value = BigInt(raw);
    }
    if (value === undefined || value < min || value > max) {
      return { problem: message };
    }
    return { value: Number(value) };
  };
}

const boolean: ValueParser<boolean> = (raw, key) =>
  typeof raw === "boolean" ? { value: raw } : {
    problem:
      `The value of ${key} in the configuration file must be true or false.`,
  };

function logLevel(message: string): ValueParser<LogLevel> {
  return (raw) => {
    // ASCII letters only: toUpperCase maps "\u0131nfo" (dotless i) to INFO.
    const upper = typeof raw === "string" && /^[A-Za-z]+$/.test(raw)
      ? raw.toUpperCase()
      : undefined;
    const level = LOG_LEVELS.find((known) => known === upper);
    return level === undefined ? { problem: message } : { value: level };
  };
}

function nonEmptyString(message: string): ValueParser<string> {
  return (raw) =>
    typeof raw === "string" && raw !== "" ? { value: raw } : {
      problem: message,
    };
}

function stringList(
  emptyMessage: string,
  itemMessage: string,
  isValidItem: (item: string) => boolean,
): ValueParser<readonly string[]> {
  return (raw) => {
    if (!Array.isArray(raw)) return { problem: itemMessage };
    if (raw.length === 0) return { problem: emptyMessage };
    const items: string[] = [];
    for (const item of raw) {
      if (typeof item !== "string" || !isValidItem(item)) {
        return { problem: itemMessage };
      }
      items.push(item);
    }
    return { value: Object.freeze(items) };
  };
}

// RFC 9110 token characters: anything else makes Headers.get throw.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Deno.env.get accepts as a name.
const ENV_NAME = /^[^=\0]+$/;

const MAX_WARM_UP_SECRETS = 1000;

/** Names or ARNs, or `{ secret_id, role_arn }` tables; the same pair twice is kept once. */
function warmUpEntries(
  itemMessage: string,
  tooLongMessage: string,
): ValueParser<readonly WarmUpEntry[]> {
  return (raw) => {
    if (!Array.isArray(raw)) return { problem: itemMessage };
    const items: WarmUpEntry[] = [];
    for (const item of raw) {
      const entry = warmUpEntry(item);
      if (entry === undefined) return { problem: itemMessage };
      if ("problem" in entry) return entry;
      const isListed = items.some((listed) =>
        listed.secretId === entry.value.secretId &&
        listed.roleArn === entry.value.roleArn
      );
      if (!isListed) items.push(entry.value);
    }
    if (items.length > MAX_WARM_UP_SECRETS) return { problem: tooLongMessage };
    return { value: Object.freeze(items) };
  };
}

/** One list item; undefined when it has the wrong shape altogether. */
function warmUpEntry(item: unknown): Parsed<WarmUpEntry> | undefined {
  if (typeof item === "string") {
    return isSecretId(item)
      ? { value: Object.freeze({ secretId: item }) }
      : undefined;
  }
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    return undefined;
  }
  const { secret_id: secretId, role_arn: roleArn, ...others } = item as Record<
    string,
    unknown
  >;
  if (
    Object.keys(others).length > 0 || typeof secretId !== "string" ||
    !isSecretId(secretId) ||
    (roleArn !== undefined && typeof roleArn !== "string")
  ) {
    return undefined;
  }
  const role = roleField(roleArn, `warm-up secret ${secretId}`);
  return "problem" in role
    ? role
    : { value: Object.freeze({ secretId, ...role.value }) };
}

/** An entry's optional `role_arn`, as the field to spread into it. */
function roleField(
  roleArn: string | undefined,
  owner: string,
): Parsed<{ readonly roleArn?: string }> {
  if (roleArn === undefined) return { value: {} };
  return isRoleArn(roleArn) ? { value: { roleArn } } : {
    problem:
      `The role_arn of ${owner} in the configuration file isn't valid: ${INVALID_ROLE_ARN}.`,
  };
}

// What a ListSecrets filter value may hold (its API pattern, less the "!" of negation).
const TAG_TEXT = /^[a-zA-Z0-9 :_@\/+=.\-]*$/;
const MAX_TAG_FILTERS = 10;
const MAX_TAG_VALUES = 10;

/** `{ key, values, role_arn }` tables: ListSecrets filters, checked up front. */
function tagFilters(
  shapeMessage: string,
  textMessage: string,
): ValueParser<readonly TagFilter[]> {
  return (raw) => {
    if (!Array.isArray(raw) || raw.length > MAX_TAG_FILTERS) {
      return { problem: shapeMessage };
    }
    const filters: TagFilter[] = [];
    for (const item of raw) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        return { problem: shapeMessage };
      }
      const { key, values, role_arn: roleArn, ...others } = item as Record<
        string,
        unknown
      >;
      if (
        Object.keys(others).length > 0 || typeof key !== "string" ||
        (values !== undefined &&
          (!Array.isArray(values) ||
            !values.every((value) => typeof value === "string"))) ||
        (roleArn !== undefined && typeof roleArn !== "string")
      ) {
        return { problem: shapeMessage };
      }
      const isKeyValid = key.length >= 1 && key.length <= 128 &&
        TAG_TEXT.test(key);
      const areValuesValid = values === undefined ||
        (values.length >= 1 && values.length <= MAX_TAG_VALUES &&
          values.every((value) => value.length <= 256 && TAG_TEXT.test(value)));
      if (!isKeyValid || !areValuesValid) return { problem: textMessage };
      const role = roleField(roleArn, `warm-up tag ${key}`);
      if ("problem" in role) return role;
      filters.push(Object.freeze({
        key,
        ...(values === undefined
          ? {}
          : { values: Object.freeze([...new Set(values as string[])]) }),
        ...role.value,
      }));
    }
    return { value: Object.freeze(filters) };
  };
}

function listenAddresses(
  message: string,
): ValueParser<readonly ListenAddress[]> {
  return (raw) => {
    if (!Array.isArray(raw)) return { problem: message };
    const items: ListenAddress[] = [];
    for (const item of raw) {
      const address = LISTEN_ADDRESSES.find((known) => known === item);
      if (address === undefined) return { problem: message };
      if (!items.includes(address)) items.push(address);
    }
    return { value: Object.freeze(items) };
  };
}

// sun_path holds 108 bytes, the terminating NUL included.
const MAX_SOCKET_PATH_BYTES = 107;

function socketPath(message: string): ValueParser<string> {
  return (raw) =>
    typeof raw === "string" && raw.startsWith("/") && !raw.includes("\0") &&
      new TextEncoder().encode(raw).byteLength <= MAX_SOCKET_PATH_BYTES
      ? { value: raw }
      : { problem: message };
}

/** An octal string of permission bits that lets the owner read and write. */
function socketMode(message: string): ValueParser<number> {
  return (raw) => {
    const mode = octalMode(raw);
    return mode !== undefined && (mode & 0o600) === 0o600
      ? { value: mode }
      : { problem: message };
  };
}

function pathPrefix(message: string): ValueParser<string> {
  return (raw) =>
    typeof raw === "string" && raw.startsWith("/") ? { value: raw } : {
      problem: message,
    };
}

/** Every key the configuration file may hold, in the contract's order. */
const CONFIG_KEYS: readonly AnyKeyDescriptor[] = Object.freeze(
  [
    {
      key: "log_level",
      field: "logLevel",
      parse: logLevel(
        "The log level specified in the configuration file isn't valid. The log level must be DEBUG, INFO, WARN, ERROR, or NONE.",
      ),
    },
    { key: "log_to_file", field: "logToFile", parse: boolean },
    {
      key: "http_port",
      field: "httpPort",
      parse: integerIn(
        1024,
        65535,
        "The HTTP port specified in the configuration file isn't valid. The HTTP port must be in the range 1024 to 65535.",
      ),
    },
    {
      key: "region",
      field: "region",
      parse: nonEmptyString(
        "The region specified in the configuration file must be a non-empty string.",
      ),
    },
    {
      key: "ttl_seconds",
      field: "ttlSeconds",
      parse: integerIn(
        0,
        3600,
        "The TTL in seconds specified in the configuration file isn't valid. The TTL in seconds must be in the range 0 to 3600.",
      ),
    },
    {
      key: "cache_size",
      field: "cacheSize",
      parse: integerIn(
        0,
        1000,
        "The cache size specified in the configuration file isn't valid. The cache size must be in the range 0 to 1000.",
      ),
    },
    {
      key: "ssrf_headers",
      field: "ssrfHeaders",
      parse: stringList(
        "The list of SSRF headers in the configuration file can't be empty.",
        'The list of SSRF headers in the configuration file must be a list of HTTP header names, such as ["X-Aws-Parameters-Secrets-Token"].',
        (item) => HEADER_NAME.test(item),
      ),
    },
    {
      key: "ssrf_env_variables",
      field: "ssrfEnvVariables",
      parse: stringList(
        "The list of SSRF environment variables in the configuration file can't be empty.",
        'The list of SSRF environment variables in the configuration file must be a list of environment variable names, such as ["AWS_TOKEN"].',
        (item) => ENV_NAME.test(item),
      ),
    },
    {
      key: "path_prefix",
      field: "pathPrefix",
      parse: pathPrefix(
        "The path prefix specified in the configuration file must begin with /.",
      ),
    },
    {
      key: "max_conn",
      field: "maxConn",
      parse: integerIn(
        1,
        1000,
        "The maximum number of connections specified in the configuration file isn't valid. The maximum number of connections must be in the range 1 to 1000.",
      ),
    },
    {
      key: "ignore_transient_errors",
      field: "ignoreTransientErrors",
      parse: boolean,
    },
    {
      key: "validate_credentials",
      field: "validateCredentials",
      parse: boolean,
    },
    {
      key: "credentials_file_path",
      field: "credentialsFilePath",
      parse: nonEmptyString(
        "The credentials file path specified in the configuration file must be a non-empty string.",
      ),
    },
    {
      key: "credentials_file_temporary_only",
      field: "credentialsFileTemporaryOnly",
      parse: boolean,
    },
    {
      key: "upstream_timeout_ms",
      field: "upstreamTimeoutMs",
      parse: integerIn(
        100,
        60000,
        "The upstream timeout specified in the configuration file isn't valid. The upstream timeout in milliseconds must be in the range 100 to 60000.",
      ),
    },
    { key: "refresh_ahead", field: "refreshAhead", parse: boolean },
    {
      key: "refresh_ahead_percent",
      field: "refreshAheadPercent",
      parse: integerIn(
        50,
        95,
        "The refresh-ahead percentage specified in the configuration file isn't valid. The refresh-ahead percentage must be in the range 50 to 95.",
      ),
    },
    {
      key: "cache_max_bytes",
      field: "cacheMaxBytes",
      parse: integerIn(
        65536,
        1073741824,
        "The maximum cache size in bytes specified in the configuration file isn't valid. The maximum cache size in bytes must be in the range 65536 to 1073741824.",
      ),
    },
    {
      key: "warm_up_secrets",
      field: "warmUpSecrets",
      parse: warmUpEntries(
        'The list of warm-up secrets in the configuration file must be a list of secret names or ARNs, or of tables of a secret_id and a role_arn, such as ["prod/db", { secret_id = "shared/db", role_arn = "arn:aws:iam::123456789012:role/reader" }].',
        "The list of warm-up secrets in the configuration file can't hold more than 1000 secrets.",
      ),
    },
    {
      key: "warm_up_tags",
      field: "warmUpTags",
      parse: tagFilters(
        'The list of warm-up tags in the configuration file must be a list of at most 10 tables of a key, optional values and an optional role_arn, such as [{ key = "team", values = ["payments"] }].',
        "A warm-up tag in the configuration file isn't valid: its key must be 1 to 128 and each of its 1 to 10 values at most 256 letters, digits, spaces or the characters : _ @ / + = . -",
      ),
    },
    {
      key: "warm_up_discovery_seconds",
      field: "warmUpDiscoverySeconds",
      parse: integerIn(
        1,
        86400,
        "The warm-up discovery period specified in the configuration file isn't valid. The warm-up discovery period in seconds must be in the range 1 to 86400.",
      ),
    },
    {
      key: "listen_addresses",
      field: "listenAddresses",
      parse: listenAddresses(
        'The list of listen addresses in the configuration file must be a list of loopback addresses, 127.0.0.1 or ::1, such as ["127.0.0.1", "::1"].',
      ),
    },
    {
      key: "unix_socket_path",
      field: "unixSocketPath",
      parse: socketPath(
        "The Unix socket path specified in the configuration file must be an absolute path of at most 107 bytes.",
      ),
    },
    {
      key: "unix_socket_mode",
      field: "unixSocketMode",
      parse: socketMode(
        'The Unix socket mode specified in the configuration file isn\'t valid. The Unix socket mode must be an octal string, such as "0660", that gives the owner read and write access.',
      ),
    },
    {
      key: "unix_socket_require_token",
      field: "unixSocketRequireToken",
      parse: boolean,
    },
    { key: "parameter_store", field: "parameterStore", parse: boolean },
    { key: "metrics", field: "metrics", parse: boolean },
    { key: "allow_role_arn", field: "allowRoleArn", parse: boolean },
    {
      key: "max_assumed_roles",
      field: "maxAssumedRoles",
      parse: integerIn(
        1,
        100,
        "The maximum number of assumed roles specified in the configuration file isn't valid. The maximum number of assumed roles must be in the range 1 to 100.",
      ),
    },
    { key: "use_fips_endpoint", field: "useFipsEndpoint", parse: boolean },
    { key: "audit_log", field: "auditLog", parse: boolean },
    { key: "file", field: "files", parse: parseFileEntries },
  ] satisfies AnyKeyDescriptor[],
);

/** Each key's TOML name and the field it sets, in the contract's order. */
export const KEY_FIELDS: readonly {
  readonly key: string;
  readonly field: keyof Config;
}[] = Object.freeze(CONFIG_KEYS.map(({ key, field }) => ({ key, field })));

// A Map, so that keys such as "constructor" never reach Object.prototype.
const DESCRIPTORS: ReadonlyMap<string, AnyKeyDescriptor> = new Map(
  CONFIG_KEYS.map((descriptor) => [descriptor.key, descriptor]),
);

/** Options of {@linkcode parseConfig}. */
export interface ParseConfigOptions {
  /** Where the text came from (a path), named in syntax errors. */
  readonly source?: string;
}

type MutableConfig = { -readonly [K in keyof Config]: Config[K] };

/**
 * Parses the text of a TOML configuration file into a frozen {@linkcode Config}.
 * Throws {@linkcode ConfigError} with the line to show for the first problem.
 *
 * @example
 * ```ts
 * const config = parseConfig('http_port = 2775\nlog_level = "debug"');
 * config.logLevel; // "DEBUG"
 * ```
 */
export function parseConfig(
  text: string,
  options: ParseConfigOptions = {},
): Config {
  const document = parseToml(text, options.source);
  const config: MutableConfig = { ...DEFAULT_CONFIG };
  for (const [key, raw] of Object.entries(document)) {
    const descriptor = DESCRIPTORS.get(key);
    if (descriptor === undefined) {
      throw new ConfigError(
        `Unknown configuration key: ${displayKey(key)}. The valid keys are ${
          CONFIG_KEYS.map((known) => known.key).join(", ")
        }.`,
      );
    }
    applyKey(config, descriptor, raw);
  }
  if (
    config.listenAddresses.length === 0 && config.unixSocketPath === undefined
  ) {
    throw new ConfigError(
      "The list of listen addresses in the configuration file can't be empty unless unix_socket_path is set.",
    );
  }
  if (
    config.credentialsFileTemporaryOnly &&
    config.credentialsFilePath === undefined
  ) {
    throw new ConfigError(
      "credentials_file_temporary_only = true needs credentials_file_path in the configuration file.",
    );
  }
  if (
    !config.allowRoleArn &&
    [...config.warmUpSecrets, ...config.warmUpTags].some((entry) =>
      entry.roleArn !== undefined
    )
  ) {
    throw new ConfigError(
      "Warm-up secrets and tags with a role_arn need allow_role_arn = true in the configuration file: without it no request can read them.",
    );
  }
  const problem = roleArnProblem(config.files, config.allowRoleArn);
  if (problem !== undefined) throw new ConfigError(problem);
  return Object.freeze(config);
}

function applyKey<K extends keyof Config>(
  config: MutableConfig,
  descriptor: KeyDescriptor<K>,
  raw: unknown,
): void {
  const parsed = descriptor.parse(raw, descriptor.key);
  if ("problem" in parsed) throw new ConfigError(parsed.problem);
  config[descriptor.field] = parsed.value;
}

function parseToml(text: string, source: string | undefined): object {
  try {
    // Integers as bigint tell `port = 2773` from `port = 2773.0`.
    return parse(text, { integersAsBigInt: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = firstLine(error)
      .replace(/^Invalid TOML document:\s*/, "");
    const where = source === undefined
      ? "the configuration file"
      : `configuration file ${source}`;
    throw new ConfigError(
      `Invalid TOML in ${where} at line ${error.line}, column ${error.column}: ${reason}`,
      { cause: error },
    );
  }
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Reads a file as UTF-8 text; throws Deno's errors. Defaults to the disk, strictly decoded. */
  readonly readTextFile?: (path: string) => string;
}

/**
 * Reads and parses the configuration file at `path`; no path means the
 * defaults. Every failure is a {@linkcode ConfigError} naming the path.
 */
export function loadConfig(
  path: string | undefined,
  options: LoadConfigOptions = {},
): Config {
  if (path === undefined) return DEFAULT_CONFIG;
  const readTextFile = options.readTextFile ?? readUtf8File;
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    throw new ConfigError(describeReadError(path, error), { cause: error });
  }
  return parseConfig(text, { source: path });
}

function describeReadError(path: string, error: unknown): string {
  if (error instanceof Deno.errors.NotFound) {
    return `Configuration file ${path} does not exist`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `Permission denied by the sandbox: grant read access to ${path} (${
      grantHint(`--allow-read=${path}`)
    })`;
  }
  return `Cannot read configuration file ${path}: ${readFailureReason(error)}`;
}
