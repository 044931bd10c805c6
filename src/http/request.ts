/**
 * Turns a request's URL into what the agent should do: answer `/ping`, look a
 * secret (or, when enabled, a Parameter Store parameter) up, render metrics,
 * or reject it with the contract's 400/404 messages.
 *
 * @module
 */

import { rejection, type RequestRejection } from "../errors.ts";
import type { SecretRequest } from "../cache/secret_value.ts";
import { INVALID_ROLE_ARN, isRoleArn } from "../aws/role_arn.ts";

/** A secret lookup as the cache takes it. */
export interface SecretLookup extends SecretRequest {
  /** Skip the cache, fetch, and store the new value. */
  readonly refreshNow: boolean;
}

/** A Parameter Store lookup, as the Parameters and Secrets Lambda Extension takes it. */
export interface ParameterLookup {
  readonly name: string;
  /** A version number, or a label: at most one of the two. */
  readonly version?: number;
  readonly label?: string;
  readonly withDecryption: boolean;
  readonly roleArn?: string;
  readonly refreshNow: boolean;
}

/** Where a request goes, once its URL is understood. */
export type Route =
  /** `ready`: `/ping?ready=true`, which answers whether the agent is ready. */
  | { readonly kind: "ping"; readonly ready: boolean }
  /** `jsonKey`: answer with SecretString replaced by that field of its JSON (ours). */
  | {
    readonly kind: "secret";
    readonly lookup: SecretLookup;
    readonly jsonKey?: string;
  }
  | { readonly kind: "parameter"; readonly lookup: ParameterLookup }
  | { readonly kind: "metrics" };

/** The routes beyond the original's, each off unless the config turns it on. */
export interface RouteFeatures {
  /** Accept `roleArn` on secret and parameter lookups. */
  readonly allowRoleArn?: boolean;
  /** Serve `/systemsmanager/parameters/get`. */
  readonly parameterStore?: boolean;
  /** Serve `/metrics`. */
  readonly metrics?: boolean;
}

/** The outcome of parsing: a route, or the rejection to answer with. */
export type ParsedRoute =
  | { readonly ok: true; readonly route: Route }
  | { readonly ok: false; readonly rejection: RequestRejection };

/**
 * The longest secret id (name or ARN) Secrets Manager takes, and the longest
 * parameter name or ARN Parameter Store takes: a longer one is refused here,
 * before it reaches the cache, AWS or the log.
 */
export const MAX_ID_LENGTH = 2048;

const QUERY_PATH = "/secretsmanager/get";
const PARAMETER_PATH = "/systemsmanager/parameters/get";
const METRICS_PATH = "/metrics";
const PING_PATH = "/ping";
const PARAMETER_PARAMETERS = new Set([
  "name",
  "version",
  "label",
  "withDecryption",
  "refreshNow",
]);
/** A parameter version: SSM numbers them from 1. */
const VERSION = /^[1-9][0-9]{0,17}$/;
const QUERY_STYLE_PARAMETERS = new Set([
  "secretId",
  "versionId",
  "versionStage",
  "refreshNow",
  "jsonKey",
]);
const PATH_STYLE_PARAMETERS = new Set([
  "versionId",
  "versionStage",
  "refreshNow",
  "jsonKey",
]);

/** The parts of a request's URL that the agent routes on, as WHATWG `URL` gives them. */
export interface RequestTarget {
  readonly pathname: string;
  readonly search: string;
}

// What WHATWG parsing of an http URL leaves exactly as it is: a loopback
// authority with a valid port, a path without dots, percent signs or
// backslashes (so no dot segment can hide in it), and a non-empty query of
// characters outside the query percent-encode set.
const PLAIN_ORIGIN = /^http:\/\/(?:127\.0\.0\.1|localhost)(?::([0-9]{0,5}))?$/;
const PLAIN_PATH = /^\/[A-Za-z0-9_~!$&()*+,;=:@/-]*$/;
const PLAIN_QUERY = /^\?[A-Za-z0-9_~!$&()*+,;=:@/?%.-]+$/;
const MAX_PORT = 65535;

/**
 * The path and query of `url` (a request's URL), or `undefined` when it does
 * not parse. Equal to `new URL(url)`'s, which is the slow path: plain URLs,
 * as clients send them, are split without it.
 */
export function requestTarget(url: string): RequestTarget | undefined {
  const pathStart = url.indexOf("/", "http://".length);
  if (pathStart > 0) {
    const origin = PLAIN_ORIGIN.exec(url.slice(0, pathStart));
    const queryStart = url.indexOf("?", pathStart);
    const pathname = url.slice(
      pathStart,
      queryStart < 0 ? url.length : queryStart,
    );
    const search = queryStart < 0 ? "" : url.slice(queryStart);
    if (
      origin !== null && Number(origin[1] ?? 0) <= MAX_PORT &&
      PLAIN_PATH.test(pathname) && (search === "" || PLAIN_QUERY.test(search))
    ) {
      return { pathname, search };
    }
  }
  const parsed = URL.parse(url);
  return parsed === null
    ? undefined
    : { pathname: parsed.pathname, search: parsed.search };
}

/** Whether a path is the health check, which skips the token and gets spare slots. */
export function isPingPath(pathname: string): boolean {
  return pathname === PING_PATH;
}

/**
 * Routes a URL: `/ping`, `/secretsmanager/get?secretId=…`, or
 * `<pathPrefix><id>` with the id percent-decoded; and, when enabled,
 * `/systemsmanager/parameters/get?name=…` and `/metrics`.
 */
export function parseRoute(
  target: RequestTarget,
  pathPrefix: string,
  features: RouteFeatures = {},
): ParsedRoute {
  const { pathname } = target;
  const params = new URLSearchParams(target.search);
  if (pathname === PING_PATH) return parsePing(params);
  if (pathname === METRICS_PATH && features.metrics) {
    return { ok: true, route: { kind: "metrics" } };
  }
  if (pathname === PARAMETER_PATH && features.parameterStore) {
    return parseParameter(params, features.allowRoleArn === true);
  }
  const allowRoleArn = features.allowRoleArn === true;
  if (pathname === QUERY_PATH) {
    return parseLookup(params, QUERY_STYLE_PARAMETERS, undefined, allowRoleArn);
  }
  if (pathname.startsWith(pathPrefix)) {
    const encodedId = pathname.slice(pathPrefix.length);
    let secretId: string;
    try {
      secretId = decodeURIComponent(encodedId);
    } catch {
      return reject("invalid secret ID encoding");
    }
    return parseLookup(params, PATH_STYLE_PARAMETERS, secretId, allowRoleArn);
  }
  return { ok: false, rejection: rejection.notFound() };
}

/** Reads the query parameters; the last of a repeated parameter wins. */
function parseLookup(
  params: URLSearchParams,
  allowed: ReadonlySet<string>,
  pathSecretId: string | undefined,
  allowRoleArn: boolean,
): ParsedRoute {
  const values = readParameters(params, allowed, allowRoleArn);
  if (!(values instanceof Map)) return values;
  const secretId = pathSecretId ?? values.get("secretId");
  if (!secretId) {
    return reject(
      pathSecretId === undefined
        ? "missing parameter secretId"
        : "missing secret ID",
    );
  }
  if (secretId.length > MAX_ID_LENGTH) {
    return reject(`secret ID longer than ${MAX_ID_LENGTH} characters`);
  }
  const refreshNow = parseFlag(values.get("refreshNow"));
  if (refreshNow === undefined) return reject("invalid refreshNow value");
  const roleArn = parseRoleArn(values.get("roleArn"));
  if (roleArn === null) return reject(INVALID_ROLE_ARN);
  const lookup: SecretLookup = {
    secretId,
    refreshNow,
    ...optional("versionId", values.get("versionId")),
    ...optional("versionStage", values.get("versionStage")),
    ...(roleArn === undefined ? {} : { roleArn }),
  };
  return {
    ok: true,
    route: {
      kind: "secret",
      lookup,
      ...optional("jsonKey", values.get("jsonKey")),
    },
  };
}

/** `name`, then at most one of `version` and `label`, `withDecryption`, `refreshNow`. */
function parseParameter(
  params: URLSearchParams,
  allowRoleArn: boolean,
): ParsedRoute {
  const values = readParameters(params, PARAMETER_PARAMETERS, allowRoleArn);
  if (!(values instanceof Map)) return values;
  const name = values.get("name");
  if (!name) return reject("missing parameter name");
  if (name.length > MAX_ID_LENGTH) {
    return reject(`parameter name longer than ${MAX_ID_LENGTH} characters`);
  }
  const version = values.get("version");
  const label = values.get("label");
  if (version && label) return reject("version and label can't both be given");
  if (version && !VERSION.test(version)) return reject("invalid version value");
  const withDecryption = parseFlag(values.get("withDecryption"));
  if (withDecryption === undefined) {
    return reject("invalid withDecryption value");
  }
  const refreshNow = parseFlag(values.get("refreshNow"));
  if (refreshNow === undefined) return reject("invalid refreshNow value");
  const roleArn = parseRoleArn(values.get("roleArn"));
  if (roleArn === null) return reject(INVALID_ROLE_ARN);
  const lookup: ParameterLookup = {
    name,
    withDecryption,
    refreshNow,
    ...(version ? { version: Number(version) } : {}),
    ...(label ? { label } : {}),
    ...(roleArn === undefined ? {} : { roleArn }),
  };
  return { ok: true, route: { kind: "parameter", lookup } };
}

/** The query's values, the last of a repeated name winning; or the rejection of an unknown name. */
function readParameters(
  params: URLSearchParams,
  allowed: ReadonlySet<string>,
  allowRoleArn: boolean,
): Map<string, string> | ParsedRoute {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!allowed.has(name) && !(allowRoleArn && name === "roleArn")) {
      return reject(`unknown parameter: ${name}`);
    }
    values.set(name, value);
  }
  return values;
}

/** Absent or empty: no role; `null`: not a role ARN. */
function parseRoleArn(value: string | undefined): string | undefined | null {
  if (!value) return undefined;
  return isRoleArn(value) ? value : null;
}

/** Other parameters are ignored, as the original ignores them on `/ping`. */
function parsePing(params: URLSearchParams): ParsedRoute {
  // The last of a repeated parameter wins, as for lookups.
  const ready = parseFlag(params.getAll("ready").at(-1));
  if (ready === undefined) return reject("invalid ready value");
  return { ok: true, route: { kind: "ping", ready } };
}

/** `true`, `false`, `1`, `0` in any case; absent means false; anything else is invalid. */
function parseFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return false;
  switch (value.toLowerCase()) {
    case "true":
    case "1":
      return true;
    case "false":
    case "0":
      return false;
    default:
      return undefined;
  }
}

/** An empty `versionId=` or `versionStage=` means "not given", as in the original; so does an empty `jsonKey=`. */
function optional<K extends string>(
  key: K,
  value: string | undefined,
): { [P in K]?: string } {
  return value ? { [key]: value } as { [P in K]: string } : {};
}

function reject(message: string): ParsedRoute {
  return { ok: false, rejection: rejection.badRequest(message) };
}
