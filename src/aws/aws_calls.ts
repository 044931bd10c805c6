/**
 * How the agent calls AWS, whatever the service: the settings every SDK
 * client is built with (region, credentials, user agent, FIPS, Deno's fetch
 * through `transport.ts`), each call reported for the metrics and its failure
 * classified into an `UpstreamError` at this edge, and roles' session
 * credentials from STS AssumeRole. The Secrets Manager client
 * (`secrets_client.ts`) and the Parameter Store client
 * (`parameters_client.ts`) are built on it.
 *
 * @module
 */

import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { AgentHttpHandler, UpstreamBodyTooLargeError } from "./transport.ts";
import { UpstreamError, type UpstreamFailure } from "../errors.ts";
import type { Credentials } from "./credentials.ts";
import { LongTermKeysRefusedError } from "./credentials_file.ts";
import { RoleClients, sessionCredentials } from "./role_clients.ts";
import { VERSION } from "../version.ts";

/** How to reach AWS. */
export interface AwsOptions {
  /** From the config file; otherwise the SDK's chain decides. */
  readonly region?: string;
  /** Replaces the SDK's credential chain (credentials_file_path). */
  readonly credentials?: () => Promise<Credentials>;
  /** Per attempt; the SDK retries transient failures on its own. */
  readonly requestTimeoutMs: number;
  /** The SDK's FIPS endpoints; the SDK refuses them with an `AWS_ENDPOINT_URL_*`. */
  readonly useFipsEndpoint?: boolean;
  /** The most roles (`roleArn`) whose credentials and clients each service keeps; default 10. */
  readonly maxAssumedRoles?: number;
  /** Told about every call to AWS once it settles. */
  readonly onCall?: (call: UpstreamCall) => void;
  /**
   * Says why the SDK found no credentials when the sandbox is the cause (a
   * file the chain reads that is not granted): the SDK's own message would
   * only say "Could not load credentials from any providers".
   */
  readonly explainMissingCredentials?: () => string | undefined;
}

/** One call to AWS, as the metrics count it. */
export interface UpstreamCall {
  /** `GetSecretValue`, `DescribeSecret`, `AssumeRole`, ... */
  readonly operation: string;
  /** `success`, an AWS error code, `timeout`, `connection` or `internal`. */
  readonly outcome: string;
  readonly seconds: number;
}

/** What AWS sees as the session name of the agent's assumed roles. */
export const ROLE_SESSION_NAME = "aws-secrets-manager-agent";
/** The assumed roles' session length; credentials are renewed 5 minutes before its end. */
const ROLE_SESSION_SECONDS = 3600;
const DEFAULT_MAX_ASSUMED_ROLES = 10;

/** The user agent suffix AWS sees on every call. */
export const USER_AGENT = `aws-secrets-manager-agent/${VERSION}`;

/** What every SDK client of the agent is built with. */
export interface SdkConfig {
  readonly region?: string;
  readonly credentials?: () => Promise<Credentials>;
  readonly customUserAgent: string;
  readonly useFipsEndpoint: boolean;
  readonly requestHandler: AgentHttpHandler;
}

/** What the service clients share. */
export interface AwsCalls {
  /** What every SDK client is built with, for the agent's own credentials. */
  readonly sdkConfig: SdkConfig;
  /** STS, for the start-up checks; its settings are `sdkConfig`. */
  readonly sts: STSClient;
  /** The most roles each service keeps clients for. */
  readonly maxAssumedRoles: number;
  /** Runs `send`: a failure becomes `UpstreamError`, and each settled call is reported. */
  call<T>(operation: string, send: () => Promise<T>): Promise<T>;
  /** A role's session credentials (AssumeRole), shared by every service's client of that role. */
  roleCredentials(roleArn: string): () => Promise<Credentials>;
  /** Releases sockets so the process can exit. */
  destroy(): void;
}

/** Builds the shared settings and the STS client once. */
export function createAwsCalls(options: AwsOptions): AwsCalls {
  const sdkConfig: SdkConfig = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    customUserAgent: USER_AGENT,
    useFipsEndpoint: options.useFipsEndpoint ?? false,
    // Deno's fetch, not node:https (see transport.ts); the credential
    // chain's own STS calls (web identity) inherit it from these clients.
    requestHandler: new AgentHttpHandler({
      requestTimeout: options.requestTimeoutMs,
    }),
  };
  const sts = new STSClient(sdkConfig);
  const call = reporting(options.onCall, options.explainMissingCredentials);
  const assume = async (roleArn: string): Promise<Credentials> => {
    const out = await call("AssumeRole", () =>
      sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: ROLE_SESSION_NAME,
          DurationSeconds: ROLE_SESSION_SECONDS,
        }),
      ));
    const given = out.Credentials;
    if (!given?.AccessKeyId || !given.SecretAccessKey) {
      throw new UpstreamError({
        kind: "internal",
        detail: "AssumeRole answered without credentials",
      });
    }
    return {
      accessKeyId: given.AccessKeyId,
      secretAccessKey: given.SecretAccessKey,
      sessionToken: given.SessionToken,
      expiration: given.Expiration,
    };
  };
  const maxAssumedRoles = options.maxAssumedRoles ?? DEFAULT_MAX_ASSUMED_ROLES;
  const roles = new RoleClients(maxAssumedRoles, (roleArn) => ({
    credentials: sessionCredentials(() => assume(roleArn)),
    destroy() {},
  }));
  return {
    sdkConfig,
    sts,
    maxAssumedRoles,
    call,
    roleCredentials: (roleArn) => roles.get(roleArn).credentials,
    destroy() {
      roles.destroy();
      sts.destroy();
    },
  };
}

/** Runs a call to AWS: failures become `UpstreamError`, and each settled call is reported. */
function reporting(
  onCall: ((call: UpstreamCall) => void) | undefined,
  explainMissingCredentials: (() => string | undefined) | undefined,
) {
  return async <T>(operation: string, send: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    let outcome = "success";
    try {
      return await send();
    } catch (error) {
      // A role's failed AssumeRole reaches the call it was for already sorted.
      let failure = error instanceof UpstreamError
        ? error.failure
        : classify(error);
      if (
        failure.kind === "internal" &&
        (error as Error)?.name === "CredentialsProviderError"
      ) {
        const refusal = explainMissingCredentials?.();
        if (refusal !== undefined) {
          failure = { kind: "internal", detail: refusal };
        }
      }
      outcome = failure.kind === "service" ? failure.code : failure.kind;
      throw error instanceof UpstreamError
        ? error
        : new UpstreamError(failure, { cause: error });
    } finally {
      onCall?.({
        operation,
        outcome,
        seconds: (performance.now() - started) / 1000,
      });
    }
  };
}

const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Sorts an SDK failure: an error answer from AWS keeps its status, code and
 * message; socket failures, an answer body past the size bound, and an error
 * answer that is not AWS's (a proxy's HTML 502) are connection errors;
 * timeouts are timeouts; the rest is internal. Only AWS's own code and
 * message are kept: an answer the SDK could not parse leaves the parser's
 * text (which quotes the answer's first bytes) out of the failure.
 */
export function classify(error: unknown): UpstreamFailure {
  if (!(error instanceof Error)) {
    return { kind: "internal", detail: String(error) };
  }
  if (error instanceof UpstreamBodyTooLargeError) return { kind: "connection" };
  if (error instanceof LongTermKeysRefusedError) {
    return { kind: "credentials_refused", reason: error.message };
  }
  const fields = error as Error & {
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = fields.$metadata?.httpStatusCode;
  const isAnswered = typeof status === "number" && status >= 400;
  if (isAnswered && isServiceException(fields)) {
    return {
      kind: "service",
      status,
      code: error.name,
      message: error.message,
    };
  }
  const code = typeof fields.code === "string" ? fields.code : "";
  // The SDK renames ECONNRESET and EPIPE to "TimeoutError", so the code goes first.
  if (CONNECTION_CODES.has(code) || /socket hang up/i.test(error.message)) {
    return { kind: "connection" };
  }
  if (
    code === "ETIMEDOUT" || error.name === "TimeoutError" ||
    error.name === "AbortError"
  ) {
    return { kind: "timeout" };
  }
  if (error.name === "TypeError" && /connect|network/i.test(error.message)) {
    return { kind: "connection" };
  }
  // An error status whose body is not an AWS error: something between us
  // and AWS answered (a proxy or load balancer), as a bad gateway would.
  if (isAnswered) return { kind: "connection" };
  return { kind: "internal", detail: errorText(error) };
}

/**
 * Whether the SDK built this error from an AWS error answer (its
 * `ServiceException`, marked by `$fault`), rather than failing to read one.
 */
function isServiceException(error: { $fault?: unknown }): boolean {
  return error.$fault === "client" || error.$fault === "server";
}

/**
 * The error for logs. A parser's message quotes the text it choked on,
 * which may be part of a secret value: only its name is kept.
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "SyntaxError" || "$responseBodyText" in error) {
    return `${error.name}: the answer could not be parsed`;
  }
  return `${error.name}: ${error.message}`;
}
