/**
 * The agent: {@linkcode buildAgent} makes each part from the configuration
 * file and the environment and runs the start-up checks; {@linkcode serve}
 * listens until SIGTERM or SIGINT, and reloads the configuration file and
 * the token on SIGHUP.
 *
 * @module
 */

import {
  type AgentMetrics,
  createAgentMetrics,
  type ObservedCache,
} from "./metrics/agent_metrics.ts";
import { openAuditLog } from "./log/audit_log.ts";
import { SecretCache } from "./cache/cache.ts";
import type { SecretCacheOptions } from "./cache/cache_options.ts";
import { type Config, DEFAULT_CONFIG } from "./config/config.ts";
import type { AgentSettings } from "./agent_settings.ts";
import { type AwsCalls, createAwsCalls } from "./aws/aws_calls.ts";
import {
  agentCredentials,
  explainMissingCredentials,
} from "./aws/credentials_source.ts";
import { addressUrl, listen, type Listener } from "./http/listener.ts";
import { consoleLogger, type Logger, openFileLogger } from "./log/logger.ts";
import type { ParameterLookup } from "./http/request.ts";
import type { SecretRequest } from "./cache/secret_value.ts";
import { RefusalLog } from "./http/refusal_log.ts";
import { reload } from "./config/reload.ts";
import { secretsCacheSource } from "./aws/secrets_cache_source.ts";
import {
  createSecretsClient,
  type SecretsClient,
} from "./aws/secrets_client.ts";
import {
  createHandler,
  type HandlerOptions,
  type RequestSlots,
} from "./http/handler.ts";
import { checkAws, logEndpoint } from "./aws/startup_checks.ts";
import { describeStartupError } from "./startup_error.ts";
import { createTokenCheck } from "./http/token.ts";
import { VERSION } from "./version.ts";
import {
  describeWarmUpEntry,
  startWarmUp,
  type WarmUp,
} from "./cache/warm_up.ts";
import {
  startTagDiscovery,
  type TagDiscovery,
  type TagFilter,
} from "./cache/tag_discovery.ts";
import { startSecretFiles } from "./files/secret_files.ts";

const DRAIN_LIMIT_MS = 10_000;

/** The parts of an agent, built and checked before it listens. */
export interface Agent {
  readonly configPath: string | undefined;
  /** As loaded at start; a reload replaces the one {@linkcode serve} holds. */
  readonly config: Config;
  readonly token: string;
  readonly log: Logger;
  readonly client: SecretsClient;
  readonly secrets: SecretCache<SecretRequest>;
  /** Parameter Store's cache and client, when `parameter_store` is on. */
  readonly parameters?: {
    readonly cache: SecretCache<ParameterLookup>;
    readonly client: { destroy(): void };
  };
  readonly metrics?: AgentMetrics;
  readonly audit?: ReturnType<typeof openAuditLog>;
}

/**
 * Builds the agent from its settings and checks AWS as configured. Failures
 * are thrown, for the caller to print as one line.
 */
export async function buildAgent(
  { configPath, config, token }: AgentSettings,
): Promise<Agent> {
  const log: Logger = config.logToFile
    ? openFileLogger({ level: config.logLevel, redactions: [token] })
    : consoleLogger({ level: config.logLevel, redactions: [token] });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error(`Unhandled failure: ${describeStartupError(event.reason)}`);
  });

  const caches: ObservedCache[] = [];
  const metrics = config.metrics ? createAgentMetrics(() => caches) : undefined;
  const aws = createAwsCalls({
    region: config.region,
    requestTimeoutMs: config.upstreamTimeoutMs,
    useFipsEndpoint: config.useFipsEndpoint,
    maxAssumedRoles: config.maxAssumedRoles,
    onCall: metrics?.recordUpstream,
    credentials: await agentCredentials({
      path: config.credentialsFilePath,
      temporaryOnly: config.credentialsFileTemporaryOnly,
    }, log),
    explainMissingCredentials,
  });
  const client = createSecretsClient(aws);
  await checkAws(client, config, log);

  const secrets = new SecretCache(
    secretsCacheSource(client),
    cacheOptions(config, log, ({ secretId }) => secretId),
  );
  caches.push({ name: "secrets", stats: () => secrets.stats() });
  const parameters = config.parameterStore
    ? await parameterCache(aws, config, log)
    : undefined;
  if (parameters !== undefined) {
    caches.push({ name: "parameters", stats: () => parameters.cache.stats() });
  }
  const audit = config.auditLog ? openAuditLog(config, token) : undefined;
  return {
    configPath,
    config,
    token,
    log,
    client,
    secrets,
    parameters,
    metrics,
    audit,
  };
}

/** Serves `agent` until SIGTERM or SIGINT, then drains; resolves with the exit code. */
export async function serve(agent: Agent): Promise<number> {
  const { log, secrets, parameters, audit } = agent;
  let { config, token } = agent;
  let stopping = false;
  const stopWarmUp = new AbortController();
  const warmUp = loggedWarmUp(agent, stopWarmUp.signal);
  const discovery = loggedTagDiscovery(agent, stopWarmUp.signal);
  const files = startSecretFiles(secrets, config.files, {
    // With the cache off, the files are still checked at the default TTL.
    intervalMs: (config.ttlSeconds || DEFAULT_CONFIG.ttlSeconds) * 1000,
    log,
  });
  const refusals = new RefusalLog({ log });

  // Shared by the handlers a reload replaces, so a second's count survives one.
  const shared: Omit<
    HandlerOptions,
    "pathPrefix" | "maxConn" | "isAuthorized"
  > = {
    unixSocketRequiresToken: config.unixSocketRequireToken,
    secrets,
    parameters: parameters?.cache,
    metrics: agent.metrics,
    allowRoleArn: config.allowRoleArn,
    audit: audit?.record,
    log,
    readiness: () =>
      stopping
        ? "stopping"
        : warmUp.isFinished && discovery.isFirstRoundDone
        ? "ready"
        : "warming up",
    slots: { inFlight: 0 } satisfies RequestSlots,
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
    const reloaded = reload(agent.configPath, config, log);
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
  logEndpoint(agent.client, log);

  await stopped.promise;
  stopWarmUp.abort();
  await files.stop();
  await stop(agent, server, refusals);
  return 0;
}

/** Warms the cache up with `warm_up_secrets`, logging each failure and the total. */
function loggedWarmUp(agent: Agent, signal: AbortSignal): WarmUp {
  const { config, log } = agent;
  const warmUp = startWarmUp(agent.secrets, config.warmUpSecrets, {
    signal,
    onFailure: (entry, error) =>
      log.warn(
        `Warm-up of ${describeWarmUpEntry(entry)} failed: ${error.message}`,
      ),
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
  return warmUp;
}

/** Warms the cache up with the secrets `warm_up_tags` finds, every period. */
function loggedTagDiscovery(agent: Agent, signal: AbortSignal): TagDiscovery {
  const { config, log, secrets } = agent;
  if (config.warmUpTags.length === 0 || !secrets.isCaching) {
    return { isFirstRoundDone: true, firstRound: Promise.resolve() };
  }
  const lastCounts = new Map<TagFilter, number>();
  return startTagDiscovery({
    list: (filter) => agent.client.listSecrets(filter),
    cache: secrets,
    filters: config.warmUpTags,
    periodMs: (config.warmUpDiscoverySeconds ?? config.ttlSeconds) * 1000,
    maxSecrets: config.cacheSize,
    signal,
    onListed: (filter, outcome) => {
      if ("error" in outcome) {
        log.warn(
          `Listing the secrets tagged ${filter.key} failed, retrying: ${outcome.error.message}`,
        );
      } else if (lastCounts.get(filter) !== outcome.matched) {
        lastCounts.set(filter, outcome.matched);
        log.info(`Warm-up by tag ${filter.key}: ${outcome.matched} secrets`);
      }
    },
    onFetchFailure: (entry, error) =>
      log.warn(
        `Warm-up of ${describeWarmUpEntry(entry)} failed: ${error.message}`,
      ),
    onTooMany: (found) =>
      log.warn(
        `Warm-up by tag found ${found} secrets, more than cache_size; fetching ${config.cacheSize}`,
      ),
  });
}

/** Stops the caches' timers, drains requests (at most 10 s), releases sockets and flushes the logs. */
async function stop(
  agent: Agent,
  server: Listener,
  refusals: RefusalLog,
): Promise<void> {
  const { secrets, parameters, client, audit, log } = agent;
  secrets.close();
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
    // A deploy wave's agents fetch together; spread their renewals.
    jitterExpiry: true,
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
  aws: AwsCalls,
  config: Config,
  log: Logger,
): Promise<NonNullable<Agent["parameters"]>> {
  const { createParametersClient, parametersCacheSource } = await import(
    "./aws/parameters_client.ts"
  );
  const client = createParametersClient(aws);
  const cache = new SecretCache(
    parametersCacheSource(client),
    cacheOptions(
      config,
      log,
      ({ name }: ParameterLookup) => `parameter ${name}`,
    ),
  );
  return { cache, client };
}
