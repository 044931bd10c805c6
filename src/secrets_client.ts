/**
 * The agent's only way out to AWS: GetSecretValue, DescribeSecret and STS
 * GetCallerIdentity through the AWS SDK, with every failure classified into an
 * `UpstreamError` at this edge.
 *
 * @module
 */

import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { UpstreamError, type UpstreamFailure } from "./errors.ts";
import type {
  SecretRequest,
  SecretsSource,
  SecretValue,
  VersionStages,
} from "./secret_value.ts";
import { VERSION } from "./version.ts";

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
  /** The SDK's FIPS endpoints; an `AWS_ENDPOINT_URL_*` variable still wins. */
  readonly useFipsEndpoint?: boolean;
}

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
  /** Releases sockets so the process can exit. */
  destroy(): void;
}

/** Builds the SDK clients once; every call goes through `classify` on failure. */
export function createSecretsClient(
  options: SecretsClientOptions,
): SecretsClient {
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    customUserAgent: USER_AGENT,
    useFipsEndpoint: options.useFipsEndpoint ?? false,
    requestHandler: {
      connectionTimeout: options.requestTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
  const secrets = new SecretsManagerClient(common);
  const sts = new STSClient(common);

  return {
    async getSecretValue(request: SecretRequest): Promise<SecretValue> {
      const out = await call(() =>
        secrets.send(
          new GetSecretValueCommand({
            SecretId: request.secretId,
            VersionId: request.versionId,
            VersionStage: request.versionStage,
          }),
        )
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
    async describeSecret(secretId: string): Promise<VersionStages> {
      const out = await call(() =>
        secrets.send(new DescribeSecretCommand({ SecretId: secretId }))
      );
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
      await call(() => sts.send(new GetCallerIdentityCommand({})));
    },
    destroy(): void {
      secrets.destroy();
      sts.destroy();
    },
  };
}

async function call<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new UpstreamError(classify(error), { cause: error });
  }
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
 * Sorts an SDK failure: an answer from AWS keeps its status and code; socket
 * failures are connection errors; timeouts are timeouts; the rest is internal.
 */
export function classify(error: unknown): UpstreamFailure {
  if (!(error instanceof Error)) {
    return { kind: "internal", detail: String(error) };
  }
  const fields = error as Error & {
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = fields.$metadata?.httpStatusCode;
  if (typeof status === "number" && status >= 400) {
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
  return { kind: "internal", detail: errorText(error) };
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(
    error,
  );
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
