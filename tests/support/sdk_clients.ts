/**
 * Real AWS SDK clients pointed at the local Secrets Manager server through
 * the standard endpoint override, for the server's own tests.
 *
 * @module
 */

import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import {
  type SecretsManagerServer,
  TEST_CREDENTIALS,
  type TestCredentials,
} from "./secrets_manager_server.ts";

/** Options of the client factories. */
export interface TestClientOptions {
  /** Default `TEST_CREDENTIALS`. */
  credentials?: TestCredentials;
  /** Default `us-east-1`. */
  region?: string;
  /** SDK attempts per call; default 1 so call counts are exact. */
  maxAttempts?: number;
  /** Turns on the SDK's request timeout (with `throwOnRequestTimeout`). */
  requestTimeoutMs?: number;
  /** Appended to the user agent. */
  userAgent?: string;
  /** The clock the client signs by, read once when it is built; default the real one. */
  now?: () => number;
}

function config(server: SecretsManagerServer, options: TestClientOptions) {
  return {
    endpoint: server.url,
    region: options.region ?? "us-east-1",
    credentials: { ...(options.credentials ?? TEST_CREDENTIALS) },
    maxAttempts: options.maxAttempts ?? 1,
    customUserAgent: options.userAgent,
    // The SDK's own clock-skew correction: sign as if it were `now()`.
    systemClockOffset: options.now ? options.now() - Date.now() : undefined,
    requestHandler: options.requestTimeoutMs === undefined ? undefined : {
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
}

/** A Secrets Manager client for `server`; call `destroy()` when done. */
export function secretsManagerClient(
  server: SecretsManagerServer,
  options: TestClientOptions = {},
): SecretsManagerClient {
  return new SecretsManagerClient(config(server, options));
}

/** An SSM (Parameter Store) client for `server`; call `destroy()` when done. */
export function ssmClient(
  server: SecretsManagerServer,
  options: TestClientOptions = {},
): SSMClient {
  return new SSMClient(config(server, options));
}

/** An STS client for `server`; call `destroy()` when done. */
export function stsClient(
  server: SecretsManagerServer,
  options: TestClientOptions = {},
): STSClient {
  return new STSClient(config(server, options));
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<
  Error & {
    code?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  }
> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`Rejected with a non-Error: ${error}`);
  }
  throw new Error("Expected the call to fail, but it succeeded");
}
