/**
 * Starts the agent: reads the arguments, builds each piece from `src/`, and
 * serves until SIGTERM or SIGINT. Every start-up failure is one line on stderr
 * and exit code 1.
 *
 * @module
 */

import { SecretCache } from "./src/cache.ts";
import { secretsCacheSource } from "./src/secrets_cache_source.ts";
import { parseCli, usage } from "./src/cli.ts";
import { loadConfig } from "./src/config.ts";
import { createCredentialsFileProvider } from "./src/credentials_file.ts";
import { isTransient, UpstreamError } from "./src/errors.ts";
import { consoleLogger, type Logger, openFileLogger } from "./src/logger.ts";
import { createSecretsClient } from "./src/secrets_client.ts";
import { addressUrl, listen } from "./src/listener.ts";
import { createHandler } from "./src/server.ts";
import { describeStartupError, StartupError } from "./src/startup_error.ts";
import { createTokenCheck, resolveToken } from "./src/token.ts";
import { VERSION } from "./src/version.ts";
import { startWarmUp } from "./src/warm_up.ts";

const PROGRAM = "aws_secretsmanager_agent";
const DRAIN_LIMIT_MS = 10_000;

async function main(args: readonly string[]): Promise<number> {
  const command = parseCli(args);
  switch (command.kind) {
    case "help":
      console.error(usage(PROGRAM));
      return 1;
    case "version":
      console.log(VERSION);
      return 0;
    case "error":
      console.error(`${command.message}\n${usage(PROGRAM)}`);
      return 1;
  }

  const config = loadConfig(command.configPath);
  const token = resolveToken(config.ssrfEnvVariables);
  const log: Logger = config.logToFile
    ? openFileLogger({ level: config.logLevel, redactions: [token] })
    : consoleLogger({ level: config.logLevel, redactions: [token] });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error(`Unhandled failure: ${describeStartupError(event.reason)}`);
  });

  const client = createSecretsClient({
    region: config.region,
    requestTimeoutMs: config.upstreamTimeoutMs,
    useFipsEndpoint: config.useFipsEndpoint,
    credentials: config.credentialsFilePath === undefined
      ? undefined
      : createCredentialsFileProvider(config.credentialsFilePath, {
        profile: Deno.env.get("AWS_PROFILE"),
        log,
      }),
  });
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
  client.endpoint().then(
    (url) => log.info(`Secrets Manager endpoint: ${url}`),
    (error) =>
      log.warn(
        `Secrets Manager endpoint unknown: ${describeStartupError(error)}`,
      ),
  );
  if (config.validateCredentials && config.credentialsFilePath === undefined) {
    await validateCredentials(client, config.ignoreTransientErrors, log);
  }

  const cache = new SecretCache(secretsCacheSource(client), {
    ttlSeconds: config.ttlSeconds,
    cacheSize: config.cacheSize,
    ignoreTransientErrors: config.ignoreTransientErrors,
    maxBytes: config.cacheMaxBytes,
    refreshAhead: config.refreshAhead
      ? {
        percent: config.refreshAheadPercent,
        onError: (error, { secretId }) =>
          log.warn(
            `Background refresh of ${secretId} failed: ${error.message}`,
          ),
      }
      : undefined,
  });
  let stopping = false;
  const stopWarmUp = new AbortController();
  const warmUp = startWarmUp(cache, config.warmUpSecrets, {
    signal: stopWarmUp.signal,
    onFailure: (secretId, error) =>
      log.warn(`Warm-up of ${secretId} failed: ${error.message}`),
  });
  if (config.warmUpSecrets.length > 0) {
    warmUp.finished.then(({ fetched, skipped }) =>
      log.info(
        `Warm-up finished: ${fetched} of ${config.warmUpSecrets.length} secrets fetched${
          skipped > 0 ? `, ${skipped} skipped` : ""
        }`,
      )
    );
  }

  const handler = createHandler({
    pathPrefix: config.pathPrefix,
    maxConn: config.maxConn,
    isAuthorized: createTokenCheck(token, config.ssrfHeaders),
    unixSocketRequiresToken: config.unixSocketRequireToken,
    secrets: cache,
    log,
    readiness: () =>
      stopping ? "stopping" : warmUp.isFinished ? "ready" : "warming up",
  });
  // In place before the listening line: a supervisor may stop us at once.
  const stopped = Promise.withResolvers<void>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => {
      // `deno task` and a process-group kill can deliver the signal twice.
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, finishing requests in flight`);
      stopped.resolve();
    });
  }
  const server = await listen(handler, {
    port: config.httpPort,
    addresses: config.listenAddresses,
    unixSocket: config.unixSocketPath === undefined
      ? undefined
      : { path: config.unixSocketPath, mode: config.unixSocketMode },
    onRotationError: (error) => log.error(error.message),
    onListen: (address) => {
      const line = `Agent/${VERSION} listening on ${addressUrl(address)}`;
      console.log(line);
      log.info(line);
    },
  });

  await stopped.promise;
  stopWarmUp.abort();
  cache.close();
  await Promise.race([
    server.shutdown(),
    new Promise((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS)),
  ]);
  client.destroy();
  log.info("Agent stopped");
  await log.close();
  return 0;
}

/** STS GetCallerIdentity; only a failure that is not transient stops the agent. */
async function validateCredentials(
  client: ReturnType<typeof createSecretsClient>,
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

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(describeStartupError(error));
    Deno.exit(1);
  }
}
