/**
 * The agent: builds each piece from its configuration and environment, and
 * serves until SIGTERM or SIGINT; SIGHUP reloads the configuration file and
 * the token.
 *
 * @module
 */

import {
  createAgentMetrics,
  type ObservedCache,
} from "./metrics/agent_metrics.ts";
import { openAuditLog } from "./log/audit_log.ts";
import { SecretCache } from "./cache/cache.ts";
import type { SecretCacheOptions } from "./cache/cache_options.ts";
import { type Config, loadConfig } from "./config/config.ts";
import {
  awsFilePaths,
  credentialFileRefused,
  ownCredentialProcess,
  readProfile,
} from "./aws/profile.ts";
import { createCredentialProcessProvider } from "./aws/credential_process.ts";
import { createCredentialsFileProvider } from "./aws/credentials_file.ts";
import {
  addressUrl,
  listen,
  refuseServeAddressOverride,
} from "./http/listener.ts";
import { consoleLogger, type Logger, openFileLogger } from "./log/logger.ts";
import type { ParameterLookup } from "./http/request.ts";
import { RefusalLog } from "./http/refusal_log.ts";
import { reload } from "./config/reload.ts";
import { secretsCacheSource } from "./aws/secrets_cache_source.ts";
import {
  createSecretsClient,
  type Credentials,
  type SecretsClient,
} from "./aws/secrets_client.ts";
import {
  createHandler,
  type HandlerOptions,
  type RequestSlots,
} from "./http/handler.ts";
import { checkAws, logEndpoint } from "./aws/startup_checks.ts";
import { describeStartupError } from "./startup_error.ts";
import { createTokenCheck, resolveToken } from "./http/token.ts";
import { VERSION } from "./version.ts";
import { startWarmUp } from "./cache/warm_up.ts";

const DRAIN_LIMIT_MS = 10_000;

/**
 * Runs the agent with the configuration file at `configPath` (none: the
 * defaults) until SIGTERM or SIGINT; resolves with the exit code. Start-up
 * failures are thrown, for the caller to print as one line.
 */
export async function runAgent(
  configPath: string | undefined,
): Promise<number> {
  refuseServeAddressOverride(Deno.env.get("DENO_SERVE_ADDRESS"));
  let config = loadConfig(configPath);
  let token = resolveToken(config.ssrfEnvVariables);
  const log: Logger = config.logToFile
    ? openFileLogger({ level: config.logLevel, redactions: [token] })
    : consoleLogger({ level: config.logLevel, redactions: [token] });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error(`Unhandled failure: ${describeStartupError(event.reason)}`);
  });

  const caches: ObservedCache[] = [];
  const metrics = config.metrics ? createAgentMetrics(() => caches) : undefined;
  const client = createSecretsClient({
    region: config.region,
    requestTimeoutMs: config.upstreamTimeoutMs,
    useFipsEndpoint: config.useFipsEndpoint,
    maxAssumedRoles: config.maxAssumedRoles,
    onCall: metrics?.recordUpstream,
    credentials: await credentialsProvider(config, log),
    explainMissingCredentials: () =>
      credentialFileRefused(awsEnv(), awsFilePaths(awsEnv(), Deno.cwd())),
  });
  await checkAws(client, config, log);

  const cache = new SecretCache(
    secretsCacheSource(client),
    cacheOptions(config, log, ({ secretId }) => secretId),
  );
  caches.push({ name: "secrets", stats: () => cache.stats() });
  const parameters = config.parameterStore
    ? await parameterCache(client, config, log)
    : undefined;
  if (parameters !== undefined) {
    caches.push({ name: "parameters", stats: () => parameters.cache.stats() });
  }
  const audit = config.auditLog ? openAuditLog(config, token) : undefined;

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

  const slots: RequestSlots = { inFlight: 0 };
  // Shared by the handlers a reload replaces, so a second's count survives one.
  const refusals = new RefusalLog({ log });
  const shared: Omit<
    HandlerOptions,
    "pathPrefix" | "maxConn" | "isAuthorized"
  > = {
    unixSocketRequiresToken: config.unixSocketRequireToken,
    secrets: cache,
    parameters: parameters?.cache,
    metrics,
    allowRoleArn: config.allowRoleArn,
    audit: audit?.record,
    log,
    readiness: () =>
      stopping ? "stopping" : warmUp.isFinished ? "ready" : "warming up",
    slots,
    refusals,
  };
  const handlerFor = (settings: Config, tokenValue: string) =>
    createHandler({
      ...shared,
      pathPrefix: settings.pathPrefix,
      maxConn: settings.maxConn,
      isAuthorized: createTokenCheck(tokenValue, settings.ssrfHeaders),
    });
  let handler = handlerFor(config, token);

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
  Deno.addSignalListener("SIGHUP", () => {
    const reloaded = reload(configPath, config, log);
    if (reloaded === undefined) return;
    config = reloaded.config;
    if (reloaded.token !== token) {
      token = reloaded.token;
      log.addRedaction(token);
      audit?.log.addRedaction(token);
    }
    log.setLevel(config.logLevel);
    handler = handlerFor(config, token);
  });
  const server = await listen((request, info) => handler(request, info), {
    port: config.httpPort,
    addresses: config.listenAddresses,
    unixSocket: config.unixSocketPath === undefined
      ? undefined
      : { path: config.unixSocketPath, mode: config.unixSocketMode },
    onError: (error) => log.error(error.message),
    onListen: (address) => {
      const line = `Agent/${VERSION} listening on ${addressUrl(address)}`;
      console.log(line);
      log.info(line);
    },
  });

  logEndpoint(client, log);

  await stopped.promise;
  stopWarmUp.abort();
  cache.close();
  parameters?.cache.close();
  await Promise.race([
    server.shutdown(),
    new Promise((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS)),
  ]);
  parameters?.client.destroy();
  client.destroy();
  refusals.flush();
  log.info("Agent stopped");
  await audit?.log.close();
  await log.close();
  return 0;
}

/**
 * The agent's own credentials source when it has one: `credentials_file_path`,
 * or a profile's `credential_process` (run without a shell, see
 * `aws/credential_process.ts`); otherwise undefined, and the SDK's chain decides.
 */
async function credentialsProvider(
  config: Config,
  log: Logger,
): Promise<(() => Promise<Credentials>) | undefined> {
  const env = awsEnv();
  if (config.credentialsFilePath !== undefined) {
    return createCredentialsFileProvider(config.credentialsFilePath, {
      profile: env.AWS_PROFILE,
      log,
    });
  }
  const profile = await readProfile(env, awsFilePaths(env, Deno.cwd()));
  const command = ownCredentialProcess(profile, env);
  return command === undefined
    ? undefined
    : createCredentialProcessProvider(command, { profile: profile.name });
}

/** The variables that locate the AWS profile and its files. */
function awsEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    [
      "AWS_PROFILE",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_CONFIG_FILE",
      "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
      "HOME",
    ].map((name) => [name, Deno.env.get(name)]),
  );
}

/** The cache settings from the config; background failures are logged by `describe`'s name. */
function cacheOptions<R>(
  config: Config,
  log: Logger,
  describe: (request: R) => string,
): SecretCacheOptions<R> {
  return {
    ttlSeconds: config.ttlSeconds,
    cacheSize: config.cacheSize,
    ignoreTransientErrors: config.ignoreTransientErrors,
    maxBytes: config.cacheMaxBytes,
    refreshAhead: config.refreshAhead
      ? {
        percent: config.refreshAheadPercent,
        onError: (error, request) =>
          log.warn(
            `Background refresh of ${
              describe(request)
            } failed: ${error.message}`,
          ),
      }
      : undefined,
  };
}

/** Parameter Store's client (loaded only now) and its own cache. */
async function parameterCache(
  client: SecretsClient,
  config: Config,
  log: Logger,
): Promise<{
  cache: SecretCache<ParameterLookup>;
  client: { destroy(): void };
}> {
  const { createParametersClient, parametersCacheSource } = await import(
    "./aws/parameters_client.ts"
  );
  const parameters = createParametersClient(client, config.maxAssumedRoles);
  const cache = new SecretCache(
    parametersCacheSource(parameters),
    cacheOptions(
      config,
      log,
      ({ name }: ParameterLookup) => `parameter ${name}`,
    ),
  );
  return { cache, client: parameters };
}
