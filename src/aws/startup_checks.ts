/**
 * The checks on AWS before the agent serves: a region is known, FIPS is not
 * paired with an endpoint URL the SDK would refuse it with, and (unless
 * turned off) the credentials work. Each failure is a `StartupError` line.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { isTransient, UpstreamError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { SecretsClient } from "./secrets_client.ts";
import { describeStartupError, StartupError } from "../startup_error.ts";

/** Runs the checks in order. */
export async function checkAws(
  client: SecretsClient,
  config: Config,
  log: Logger,
): Promise<void> {
  try {
    await client.region();
  } catch (error) {
    throw new StartupError(
      "Could not determine the AWS region: set region in the configuration file or AWS_REGION",
      { cause: error },
    );
  }
  if (config.useFipsEndpoint) {
    const [configured] = await client.configuredEndpoints();
    if (configured !== undefined) {
      throw new StartupError(
        `use_fips_endpoint = true can't be combined with a configured endpoint URL (${configured.service}: ${configured.url}): the AWS SDK refuses the pair. Point the endpoint URL at a FIPS endpoint and set use_fips_endpoint = false, or remove the endpoint URL.`,
      );
    }
  }
  if (config.validateCredentials && config.credentialsFilePath === undefined) {
    await validateCredentials(client, config.ignoreTransientErrors, log);
  }
}

/** Logs where Secrets Manager calls go; after start-up, which it must not slow. */
export function logEndpoint(client: SecretsClient, log: Logger): void {
  client.endpoint().then(
    (url) => log.info(`Secrets Manager endpoint: ${url}`),
    (error) =>
      log.warn(
        `Secrets Manager endpoint unknown: ${describeStartupError(error)}`,
      ),
  );
}

/** STS GetCallerIdentity; only a failure that is not transient stops the agent. */
async function validateCredentials(
  client: SecretsClient,
  ignoreTransientErrors: boolean,
  log: Logger,
): Promise<void> {
  try {
    await client.validateCredentials();
  } catch (error) {
    if (
      error instanceof UpstreamError && ignoreTransientErrors &&
      isTransient(error.failure)
    ) {
      log.warn(
        `Could not validate AWS credentials (${error.message}); going on`,
      );
      return;
    }
    throw new StartupError(
      `Could not validate AWS credentials (STS GetCallerIdentity): ${
        error instanceof UpstreamError && error.failure.kind === "service"
          ? `${error.failure.code}: ${error.failure.message}`
          : describeStartupError(error)
      }`,
      { cause: error },
    );
  }
}
