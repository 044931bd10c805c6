/**
 * Turns a request's URL into what the agent should do: answer `/ping`, look a
 * secret up, or reject it with the contract's 400/404 messages.
 *
 * @module
 */

import { rejection, type RequestRejection } from "./errors.ts";
import type { SecretRequest } from "./secret_value.ts";

/** A secret lookup as the cache takes it. */
export interface SecretLookup extends SecretRequest {
  /** Skip the cache, fetch, and store the new value. */
  readonly refreshNow: boolean;
}

/** Where a request goes, once its URL is understood. */
export type Route =
  | { readonly kind: "ping" }
  | { readonly kind: "secret"; readonly lookup: SecretLookup };

/** The outcome of parsing: a route, or the rejection to answer with. */
export type ParsedRoute =
  | { readonly ok: true; readonly route: Route }
  | { readonly ok: false; readonly rejection: RequestRejection };

const QUERY_PATH = "/secretsmanager/get";
const PING_PATH = "/ping";
const QUERY_STYLE_PARAMETERS = new Set([
  "secretId",
  "versionId",
  "versionStage",
  "refreshNow",
]);
const PATH_STYLE_PARAMETERS = new Set([
  "versionId",
  "versionStage",
  "refreshNow",
]);

/** Whether a path is the health check, which skips the token and gets spare slots. */
export function isPingPath(pathname: string): boolean {
  return pathname === PING_PATH;
}

/**
 * Routes a URL: `/ping`, `/secretsmanager/get?secretId=…`, or
 * `<pathPrefix><id>` with the id percent-decoded.
 */
export function parseRoute(url: URL, pathPrefix: string): ParsedRoute {
  const { pathname } = url;
  if (pathname === PING_PATH) return { ok: true, route: { kind: "ping" } };
  if (pathname === QUERY_PATH) {
    return parseLookup(url.searchParams, QUERY_STYLE_PARAMETERS, undefined);
  }
  if (pathname.startsWith(pathPrefix)) {
    const encodedId = pathname.slice(pathPrefix.length);
    let secretId: string;
    try {
      secretId = decodeURIComponent(encodedId);
    } catch {
      return reject("invalid secret ID encoding");
    }
    return parseLookup(url.searchParams, PATH_STYLE_PARAMETERS, secretId);
  }
  return { ok: false, rejection: rejection.notFound() };
}

/** Reads the query parameters; the last of a repeated parameter wins. */
function parseLookup(
  params: URLSearchParams,
  allowed: ReadonlySet<string>,
  pathSecretId: string | undefined,
): ParsedRoute {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!allowed.has(name)) return reject(`unknown parameter: ${name}`);
    values.set(name, value);
  }
  const secretId = pathSecretId ?? values.get("secretId");
  if (!secretId) {
    return reject(
      pathSecretId === undefined
        ? "missing parameter secretId"
        : "missing secret ID",
    );
  }
  const refreshNow = parseRefreshNow(values.get("refreshNow"));
  if (refreshNow === undefined) return reject("invalid refreshNow value");
  const lookup: SecretLookup = {
    secretId,
    refreshNow,
    ...optional("versionId", values.get("versionId")),
    ...optional("versionStage", values.get("versionStage")),
  };
  return { ok: true, route: { kind: "secret", lookup } };
}

/** `true`, `false`, `1`, `0` in any case; absent means false; anything else is invalid. */
function parseRefreshNow(value: string | undefined): boolean | undefined {
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

/** An empty `versionId=` or `versionStage=` means "not given", as in the original. */
function optional<K extends string>(
  key: K,
  value: string | undefined,
): { [P in K]?: string } {
  return value ? { [key]: value } as { [P in K]: string } : {};
}

function reject(message: string): ParsedRoute {
  return { ok: false, rejection: rejection.badRequest(message) };
}
