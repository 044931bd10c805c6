/**
 * The agent's soak test: the local Secrets Manager with a set of secrets and
 * the real agent (as `deno task start` runs it, `ttl_seconds = 2` so entries
 * keep expiring) under mixed traffic from concurrent clients for a bounded
 * time, while the server's faults change in turn and some secrets rotate.
 * Then the agent is stopped with SIGTERM and its logs are searched.
 *
 * ```sh
 * deno task soak [--duration <seconds>] [--clients <n>] [--quick]
 * ```
 *
 * Prints every figure and Markdown tables for docs/reliability.md. Exits 0
 * when every must holds (no crash, no mismatch, flat memory, nothing secret
 * in the logs, owner-only log modes...), 1 otherwise, 2 on bad options.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  AGENT_TOKEN,
  type RunningAgent,
  startAgent,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";
import { runFaultSchedule } from "./soak_faults.ts";
import { scanLogs } from "./soak_logs.ts";
import { summarizeMemory, watchAgent } from "./soak_memory.ts";
import { formatSoakReport, musts, type SoakFigures } from "./soak_report.ts";
import { rotateUntil, SecretBook } from "./soak_secrets.ts";
import { BAD_TOKEN, driveTraffic } from "./soak_traffic.ts";

/** The soak's settings. */
export interface SoakOptions {
  readonly durationMs: number;
  readonly clients: number;
  readonly isQuick: boolean;
  /** Length of one fault (or clean) phase. */
  readonly phaseMs: number;
  /** Memory samples before this are warm-up. */
  readonly warmUpMs: number;
  readonly sampleIntervalMs: number;
  readonly rotateIntervalMs: number;
  readonly hotSecrets: number;
  readonly missSecrets: number;
  /** The agent's `cache_size`: fewer than the miss secrets, so they keep missing. */
  readonly cacheSize: number;
  /** The agent's `upstream_timeout_ms`; undefined: its default. */
  readonly upstreamTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number;
}

const USAGE = "Usage: soak.ts [--duration <seconds>] [--clients <n>] [--quick]";
const TTL_SECONDS = 2;

/** Reads the options; throws `TypeError` on a bad one. */
export function parseOptions(args: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      duration: { type: "string" },
      clients: { type: "string" },
      quick: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const isQuick = values.quick === true;
  const positive = (
    name: string,
    raw: string | undefined,
    fallback: number,
  ) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new TypeError(
        `--${name} must be a positive whole number, got ${raw}`,
      );
    }
    return value;
  };
  const durationS = positive("duration", values.duration, isQuick ? 10 : 180);
  if (durationS > 3600) {
    throw new TypeError(`--duration must be at most 3600, got ${durationS}`);
  }
  return {
    durationMs: durationS * 1000,
    clients: positive("clients", values.clients, isQuick ? 8 : 32),
    isQuick,
    phaseMs: isQuick ? 800 : 6000,
    warmUpMs: Math.min(isQuick ? 3000 : 30_000, durationS * 250),
    sampleIntervalMs: isQuick ? 500 : 2000,
    rotateIntervalMs: isQuick ? 100 : 250,
    hotSecrets: 8,
    missSecrets: isQuick ? 300 : 1500,
    cacheSize: isQuick ? 100 : 500,
    upstreamTimeoutMs: isQuick ? 500 : undefined,
    requestTimeoutMs: isQuick ? 10_000 : 30_000,
  };
}

function agentConfig(options: SoakOptions): string {
  return [
    `ttl_seconds = ${TTL_SECONDS}`,
    `cache_size = ${options.cacheSize}`,
    ...(options.upstreamTimeoutMs === undefined
      ? []
      : [`upstream_timeout_ms = ${options.upstreamTimeoutMs}`]),
    "",
  ].join("\n");
}

/** Creates the secrets; returns the hot and the miss ids. */
function seed(
  book: SecretBook,
  options: SoakOptions,
): { hotIds: string[]; missIds: string[] } {
  const ids = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `soak/${prefix}-${i}`);
  const hotIds = ids("hot", options.hotSecrets);
  const missIds = ids("many", options.missSecrets);
  for (const id of [...hotIds, ...missIds]) book.create(id);
  return { hotIds, missIds };
}

/** Traffic, faults, rotations and the watch, together until the time is up. */
async function soak(
  server: SecretsManagerServer,
  agent: RunningAgent,
  options: SoakOptions,
): Promise<SoakFigures> {
  const book = new SecretBook(server);
  const { hotIds, missIds } = seed(book, options);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.durationMs);
  const started = performance.now();
  const bound = (intervalMs: number) =>
    Math.ceil(options.durationMs / intervalMs) + 1;
  const [tally, upstream, watch] = await Promise.all([
    driveTraffic({
      agentUrl: agent.url,
      hotIds,
      missIds,
      book,
      clients: options.clients,
      requestTimeoutMs: options.requestTimeoutMs,
      signal: stop.signal,
      maxRequestsPerClient: 100_000_000,
    }),
    runFaultSchedule(server, {
      phaseMs: options.phaseMs,
      signal: stop.signal,
      maxPhases: bound(options.phaseMs),
    }),
    watchAgent(agent.pid, {
      intervalMs: options.sampleIntervalMs,
      signal: stop.signal,
      maxSamples: bound(options.sampleIntervalMs),
      onGone: () => stop.abort(),
    }),
    rotateUntil(book, hotIds, {
      intervalMs: options.rotateIntervalMs,
      signal: stop.signal,
      maxAttempts: bound(options.rotateIntervalMs),
    }),
  ]);
  clearTimeout(timer);
  const durationS = (performance.now() - started) / 1000;
  const exit = await agent.stop("SIGTERM");
  if (watch.isGone || exit.code !== 0) {
    console.error(
      `The agent exited with ${exit.code}:\n${exit.stderr.slice(-2000)}`,
    );
  }
  const logs = await scanLogs(agent.dir, {
    needles: {
      "SSRF token": AGENT_TOKEN,
      "bad token": BAD_TOKEN,
      "secret access key": TEST_CREDENTIALS.secretAccessKey,
      "Authorization": "Authorization",
      "AWS4-HMAC-SHA256": "AWS4-HMAC-SHA256",
    },
  });
  return {
    durationS,
    clients: options.clients,
    phaseMs: options.phaseMs,
    tally,
    upstream,
    rotations: book.rotations,
    rotationLagsMs: book.rotationLagsMs,
    crashes: watch.isGone ? 1 : 0,
    exitCode: exit.code,
    memory: summarizeMemory(watch.samples, {
      warmUpMs: options.warmUpMs,
      isJudged: !options.isQuick,
    }),
    logs,
  };
}

async function main(args: readonly string[]): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  // Every loop stops with the run; this bounds the rest (start, stop, scan).
  const watchdog = setTimeout(() => {
    console.error("The soak overran its time limit");
    Deno.exit(1);
  }, options.durationMs + options.requestTimeoutMs + 120_000);
  console.log(
    `Soak: ${
      options.durationMs / 1000
    } s, ${options.clients} clients, ttl_seconds = ${TTL_SECONDS}, cache_size = ${options.cacheSize}, upstream_timeout_ms = ${
      options.upstreamTimeoutMs ?? "default"
    }, ${options.hotSecrets} hot + ${options.missSecrets} other secrets, memory warm-up ${
      options.warmUpMs / 1000
    } s; Deno ${Deno.version.deno}${
      options.isQuick ? " (--quick: smoke run)" : ""
    }`,
  );
  const server = await startSecretsManagerServer();
  try {
    await using agent = await startAgent({
      endpoint: server.url,
      config: agentConfig(options),
    });
    const figures = await soak(server, agent, options);
    console.log(formatSoakReport(figures));
    const failed = musts(figures).filter((must) => !must.isMet);
    for (const must of failed) {
      console.error(
        `NOT MET: ${must.figure}: must be ${must.must}, measured ${must.measured}`,
      );
    }
    console.log(
      failed.length === 0
        ? "every must holds"
        : `${failed.length} must(s) not met`,
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await server.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? error.stack : String(error));
    Deno.exit(1);
  }
}
