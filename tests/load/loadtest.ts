/**
 * The agent's load test: starts the local Secrets Manager, the real agent
 * (as `deno task start` runs it) and a bare `Deno.serve` that only checks the
 * token, each in its own process; drives both servers with the same load
 * (`wrk` when installed, else Deno client processes), in alternating order;
 * then runs the cache scenarios, and prints every figure and a Markdown
 * table for docs/performance.md.
 *
 * ```sh
 * deno task loadtest [--duration 5] [--connections 64] [--clients 2] [--rounds 2] [--client auto|wrk|deno] [--quick]
 * ```
 *
 * Exits 0 once every figure is measured, whether or not it meets its
 * target; 1 when something could not be measured; 2 on bad options.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  AGENT_TOKEN,
  startAgent,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import { startBareServer } from "./bare_server.ts";
import {
  type LoadDriver,
  type LoadGenerator,
  type LoadOptions,
  pickLoadDriver,
  type RunResult,
} from "./load_driver.ts";
import {
  cpuTimeMs,
  getSecret,
  measureCoalescing,
  measureExpiries,
  measureMemory,
  measureStartup,
  secretPath,
} from "./scenarios.ts";
import { type Figures, formatReport } from "./report.ts";

/** The load test's settings, from the command line. */
export interface LoadTestOptions extends LoadOptions {
  readonly rounds: number;
  readonly generator: LoadGenerator;
  readonly isQuick: boolean;
  /** Agent starts whose median is the start-up figure. */
  readonly starts: number;
  /** TTL expiries the steady client crosses. */
  readonly expiries: number;
}

const USAGE =
  "Usage: loadtest.ts [--duration <s>] [--connections <n>] [--clients <n>] [--rounds <n>] [--client auto|wrk|deno] [--quick]";
const GENERATORS: readonly LoadGenerator[] = ["auto", "wrk", "deno"];
const THROUGHPUT_SECRET = "bench/db-credentials";
const THROUGHPUT_VALUE = JSON.stringify({
  username: "orders_app",
  password: "pJ3#v9Lq!r2Zt8Wm@x5Nc7Ye",
  engine: "postgres",
  host: "orders.cluster-abc123xyz.us-east-1.rds.amazonaws.com",
  port: 5432,
  dbname: "orders",
});

/** Reads the options; throws `TypeError` (with the usage) on a bad one. */
export function parseOptions(args: readonly string[]): LoadTestOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      duration: { type: "string" },
      connections: { type: "string" },
      clients: { type: "string" },
      rounds: { type: "string" },
      client: { type: "string", default: "auto" },
      quick: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const isQuick = values.quick === true;
  const generator = GENERATORS.find((name) => name === values.client);
  if (generator === undefined) {
    throw new TypeError(
      `--client must be auto, wrk or deno, got ${values.client}`,
    );
  }
  const number = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new TypeError(`--${name} must be a positive number, got ${raw}`);
    }
    return value;
  };
  const integer = (name: string, raw: string | undefined, fallback: number) => {
    const value = number(name, raw, fallback);
    if (!Number.isSafeInteger(value)) {
      throw new TypeError(`--${name} must be a whole number, got ${raw}`);
    }
    return value;
  };
  return {
    durationMs: number("duration", values.duration, isQuick ? 1 : 5) * 1000,
    warmUpMs: isQuick ? 250 : 1000,
    connections: integer("connections", values.connections, 64),
    clients: integer("clients", values.clients, 2),
    rounds: integer("rounds", values.rounds, isQuick ? 1 : 2),
    generator,
    isQuick,
    starts: isQuick ? 3 : 5,
    expiries: isQuick ? 1 : 3,
  };
}

/** One measured run, with the server's CPU time per request answered. */
export interface ServerRun extends RunResult {
  readonly cpuUsPerRequest: number;
}

/** Per server, the runs of every round. */
interface ThroughputRuns {
  readonly bare: ServerRun[];
  readonly agent: ServerRun[];
}

/** The same load on the bare server and on the agent (cache hit), order alternating by round. */
async function measureThroughput(
  server: SecretsManagerServer,
  driver: LoadDriver,
  options: LoadTestOptions,
): Promise<ThroughputRuns> {
  await using agent = await startAgent({ endpoint: server.url });
  server.createSecret(THROUGHPUT_SECRET, THROUGHPUT_VALUE);
  const body = await getSecret(agent, THROUGHPUT_SECRET);
  const bodyBytes = new TextEncoder().encode(body).byteLength;
  const bare = await startBareServer(TOKEN_HEADER, {
    token: AGENT_TOKEN,
    bodyBytes,
  });
  try {
    const check = await fetch(`${bare.url}/`, {
      headers: { [TOKEN_HEADER]: AGENT_TOKEN },
    });
    if ((await check.arrayBuffer()).byteLength !== bodyBytes) {
      throw new Error("The bare server's body is not the agent's size");
    }
    const headers = { [TOKEN_HEADER]: AGENT_TOKEN };
    const targets = {
      bare: {
        name: "bare Deno.serve",
        url: `${bare.url}${secretPath(THROUGHPUT_SECRET)}`,
        pid: bare.pid,
      },
      agent: {
        name: "agent (cache hit)",
        url: `${agent.url}${secretPath(THROUGHPUT_SECRET)}`,
        pid: agent.pid,
      },
    };
    const runs: ThroughputRuns = { bare: [], agent: [] };
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1
        ? (["bare", "agent"] as const)
        : (["agent", "bare"] as const);
      for (const which of order) {
        const { url, pid } = targets[which];
        const cpu = { startMs: 0, stopMs: 0 };
        const run = await driver.run(url, headers, options, {
          start: async () => void (cpu.startMs = await cpuTimeMs(pid)),
          stop: async () => void (cpu.stopMs = await cpuTimeMs(pid)),
        });
        const answered = run.requestsPerSecond * options.durationMs / 1000;
        const result: ServerRun = {
          ...run,
          cpuUsPerRequest: (cpu.stopMs - cpu.startMs) * 1000 / answered,
        };
        runs[which].push(result);
        console.log(
          `round ${round}  ${targets[which].name.padEnd(18)} ${
            result.requestsPerSecond.toFixed(0).padStart(7)
          } req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${
            result.p99Ms.toFixed(2)
          } ms  CPU ${result.cpuUsPerRequest.toFixed(1)} us/request${
            result.failed > 0 ? `  ${result.failed} FAILED` : ""
          }`,
        );
      }
    }
    return runs;
  } finally {
    await bare.stop();
  }
}

/** The mean of each figure over the runs. */
function mean(runs: readonly ServerRun[]): ServerRun {
  const average = (pick: (run: ServerRun) => number) =>
    runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  return {
    requestsPerSecond: average((run) => run.requestsPerSecond),
    p50Ms: average((run) => run.p50Ms),
    p99Ms: average((run) => run.p99Ms),
    cpuUsPerRequest: average((run) => run.cpuUsPerRequest),
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
  };
}

async function main(args: readonly string[]): Promise<number> {
  let options: LoadTestOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const driver = await pickLoadDriver(options.generator);
  console.log(
    `Load: ${driver.name}, ${options.clients} client ${
      driver.name === "wrk" ? "threads" : "processes"
    }, ${options.connections} keep-alive connections, ${
      options.warmUpMs / 1000
    } s warm-up + ${
      options.durationMs / 1000
    } s per run, ${options.rounds} round(s), order alternating; ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}${
      options.isQuick ? " (--quick: smoke run, figures not representative)" : ""
    }`,
  );
  await using server = {
    instance: await startSecretsManagerServer(),
    async [Symbol.asyncDispose]() {
      await this.instance.close();
    },
  };
  const sm = server.instance;
  const runs = await measureThroughput(sm, driver, options);
  const coalescing = await measureCoalescing(sm, {
    requests: 200,
    latencyMs: 200,
  });
  console.log(
    `(a) ${coalescing.requests} concurrent requests, one uncached secret, 200 ms upstream: ${coalescing.getSecretValueCalls} GetSecretValue call(s)`,
  );
  const expiries = await measureExpiries(sm, {
    ttlSeconds: 2,
    expiries: options.expiries,
    requestsPerSecond: 50,
    latencyMs: 300,
  });
  console.log(
    [
      `(b) ${expiries.requests} requests at 50 req/s across`,
      `${options.expiries} TTL expiries (ttl_seconds = 2, 300 ms upstream):`,
      `worst ${expiries.worstMs.toFixed(1)} ms`,
      `(sent ${(expiries.worstAtMs / 1000).toFixed(2)} s after caching),`,
      `p50 ${expiries.p50Ms.toFixed(1)} ms,`,
      `${expiries.slowRequests} at 20 ms or more,`,
      `${expiries.upstreamCalls} upstream calls`,
    ].join(" "),
  );
  const startup = await measureStartup(sm, { starts: options.starts });
  console.log(
    `(c) start-up to healthy /ping: median ${
      startup.medianMs.toFixed(0)
    } ms of [${startup.samplesMs.map((ms) => ms.toFixed(0)).join(", ")}]`,
  );
  const memory = await measureMemory(sm, { secrets: 1000, secretBytes: 4096 });
  console.log(
    `(d) resident memory: ${memory.idleMb.toFixed(1)} MiB idle, ${
      memory.loadedMb.toFixed(1)
    } MiB with ${memory.secrets} cached secrets of ${memory.secretBytes} bytes`,
  );
  const figures: Figures = {
    bare: mean(runs.bare),
    agent: mean(runs.agent),
    coalescing,
    expiries: { ...expiries, expiries: options.expiries },
    startup,
    memory,
  };
  console.log(`\n${formatReport(figures)}`);
  const failed = figures.bare.failed + figures.agent.failed;
  if (failed > 0) {
    console.error(
      `${failed} load requests were not answered 200: the throughput figures are not valid`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? error.stack : String(error));
    Deno.exit(1);
  }
}
