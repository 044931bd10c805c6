/**
 * The agent's way out to AWS: GetSecretValue, DescribeSecret, STS
 * GetCallerIdentity and AssumeRole through the AWS SDK (over Deno's fetch,
 * see `transport.ts`), with every failure classified into an
 * `UpstreamError` at this edge, and every call reported (operation, outcome,
 * duration) for the metrics. Parameter Store (`parameters_client.ts`) builds
 * on its settings, roles and reporting.
 *
 * @module
 */

import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { AgentHttpHandler, UpstreamBodyTooLargeError } from "./transport.ts";
import { UpstreamError, type UpstreamFailure } from "../errors.ts";
import { RoleClients, sessionCredentials } from "./role_clients.ts";
import type {
  SecretRequest,
  SecretsSource,
  SecretValue,
  VersionStages,
} from "../cache/secret_value.ts";
import { VERSION } from "../version.ts";

/** Credentials as the SDK takes them from a provider function. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When the SDK should ask the provider again. */
  readonly expiration?: Date;
}

/** How to reach AWS. */
export interface SecretsClientOptions {
  /** From the config file; otherwise the SDK's chain decides. */
  readonly region?: string;
  /** Replaces the SDK's credential chain (credentials_file_path). */
  readonly credentials?: () => Promise<Credentials>;
  /** Per attempt; the SDK retries transient failures on its own. */
  readonly requestTimeoutMs: number;
  /** The SDK's FIPS endpoints; the SDK refuses them with an `AWS_ENDPOINT_URL_*`. */
  readonly useFipsEndpoint?: boolean;
  /** The most roles (`roleArn`) whose credentials and clients are kept; default 10. */
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

/** An endpoint URL the environment or shared config set for a service. */
export interface ConfiguredEndpoint {
  readonly service: "Secrets Manager" | "STS";
  readonly url: string;
}

/** SecretsSource backed by the SDK, plus the start-up checks. */
export interface SecretsClient extends SecretsSource {
  /** The region the SDK settled on; rejects if none can be found. */
  region(): Promise<string>;
  /** Where Secrets Manager calls go, as the SDK resolves it, for the start-up log. */
  endpoint(): Promise<string>;
  /**
   * The endpoint URLs set through `AWS_ENDPOINT_URL*` or the shared config
   * file, by service; the SDK refuses them together with FIPS endpoints.
   */
  configuredEndpoints(): Promise<readonly ConfiguredEndpoint[]>;
  /** STS GetCallerIdentity; rejects with `UpstreamError`. */
  validateCredentials(): Promise<void>;
  /** A role's session credentials (AssumeRole), shared by every client of that role. */
  roleCredentials(roleArn: string): () => Promise<Credentials>;
  /** The SDK client settings every client of the agent uses, for other services. */
  readonly sdkConfig: SdkConfig;
  /** Reports a call to AWS and classifies its failure; for other services' clients. */
  call<T>(operation: string, send: () => Promise<T>): Promise<T>;
  /** Releases sockets so the process can exit. */
  destroy(): void;
}

/** What every SDK client of the agent is built with. */
export interface SdkConfig {
  readonly region?: string;
  readonly credentials?: () => Promise<Credentials>;
  readonly customUserAgent: string;
  readonly useFipsEndpoint: boolean;
  readonly requestHandler: AgentHttpHandler;
}

/** One role's credentials, and its Secrets Manager client built on them. */
interface RoleSecrets {
  readonly credentials: () => Promise<Credentials>;
  readonly secrets: SecretsManagerClient;
  destroy(): void;
}

/** Builds the SDK clients once; every call goes through `classify` on failure. */
export function createSecretsClient(
  options: SecretsClientOptions,
): SecretsClient {
  const common: SdkConfig = {
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
  const secrets = new SecretsManagerClient(common);
  const sts = new STSClient(common);
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
  const roles = new RoleClients<RoleSecrets>(
    options.maxAssumedRoles ?? DEFAULT_MAX_ASSUMED_ROLES,
    (roleArn) => {
      const credentials = sessionCredentials(() => assume(roleArn));
      const client = new SecretsManagerClient({ ...common, credentials });
      return { credentials, secrets: client, destroy: () => client.destroy() };
    },
  );
  const secretsFor = (roleArn: string | undefined) =>
    roleArn === undefined ? secrets : roles.get(roleArn).secrets;

  return {
    async getSecretValue(request: SecretRequest): Promise<SecretValue> {
      const out = await call(
        "GetSecretValue",
        () =>
          secretsFor(request.roleArn).send(
            new GetSecretValueCommand({
              SecretId: request.secretId,
              VersionId: request.versionId,
              VersionStage: request.versionStage,
            }),
          ),
      );
      return {
        arn: out.ARN ?? "",
        name: out.Name ?? "",
        versionId: out.VersionId ?? "",
        ...(out.SecretString !== undefined
          ? { secretString: out.SecretString }
          : {}),
        ...(out.SecretBinary !== undefined
          ? { secretBinary: toBase64(out.SecretBinary) }
          : {}),
        versionStages: out.VersionStages ?? [],
        ...(out.CreatedDate
          ? { createdDateMs: out.CreatedDate.getTime() }
          : {}),
      };
    },
    async describeSecret(
      secretId: string,
      roleArn?: string,
    ): Promise<VersionStages> {
      const out = await call("DescribeSecret", () =>
        secretsFor(roleArn).send(
          new DescribeSecretCommand({ SecretId: secretId }),
        ));
      return out.VersionIdsToStages ?? {};
    },
    async region(): Promise<string> {
      try {
        return await secrets.config.region();
      } catch (error) {
        throw new UpstreamError({
          kind: "internal",
          detail: errorText(error),
        }, { cause: error });
      }
    },
    async endpoint(): Promise<string> {
      const configured = await secrets.config.serviceConfiguredEndpoint?.();
      if (configured !== undefined) return configured;
      const resolved = secrets.config.endpointProvider({
        Region: await secrets.config.region(),
        UseFIPS: await secrets.config.useFipsEndpoint(),
        UseDualStack: await secrets.config.useDualstackEndpoint(),
      });
      return resolved.url.href;
    },
    async configuredEndpoints(): Promise<readonly ConfiguredEndpoint[]> {
      const found: ConfiguredEndpoint[] = [];
      const smUrl = await secrets.config.serviceConfiguredEndpoint?.();
      if (smUrl !== undefined) {
        found.push({ service: "Secrets Manager", url: smUrl });
      }
      const stsUrl = await sts.config.serviceConfiguredEndpoint?.();
      if (stsUrl !== undefined) found.push({ service: "STS", url: stsUrl });
      return found;
    },
    async validateCredentials(): Promise<void> {
      await call(
        "GetCallerIdentity",
        () => sts.send(new GetCallerIdentityCommand({})),
      );
    },
    roleCredentials: (roleArn) => roles.get(roleArn).credentials,
    sdkConfig: common,
    call,
    destroy(): void {
      roles.destroy();
      secrets.destroy();
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
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "SyntaxError" || "$responseBodyText" in error) {
    return `${error.name}: the answer could not be parsed`;
  }
  return `${error.name}: ${error.message}`;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
