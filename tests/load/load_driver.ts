/**
 * Drives one server with a fixed closed-loop load and measures it: with
 * `wrk` when it is installed, otherwise with {@link ./load_client.ts} in
 * separate `deno` processes, so that neither the client nor this process's
 * event loop is what limits the server.
 *
 * @module
 */

import type { ClientPlan, ClientReport } from "./load_client.ts";

/** The load to apply. */
export interface LoadOptions {
  /** Open keep-alive connections, all kept busy. */
  readonly connections: number;
  /** Client processes (wrk: threads) sharing the connections. */
  readonly clients: number;
  /** Load applied before measuring. */
  readonly warmUpMs: number;
  /** Measured load. */
  readonly durationMs: number;
}

/** What one measured run gave. */
export interface RunResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers other than 200 (and wrk's socket errors). */
  readonly failed: number;
}

/** Called when the measured part of a run starts and when it ends (not the warm-up). */
export interface MeasuredSpan {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A way to apply load: `wrk` or Deno client processes. */
export interface LoadDriver {
  /** How the load is generated, for the report. */
  readonly name: string;
  run(
    url: string,
    headers: Readonly<Record<string, string>>,
    options: LoadOptions,
    span?: MeasuredSpan,
  ): Promise<RunResult>;
}

const CLIENT_SCRIPT = new URL("./load_client.ts", import.meta.url);
/** Time for client processes to start and connect before the load begins. */
const CLIENT_LEAD_MS = 750;

/** Which load generator to use; `auto` is `wrk` when installed, else `deno`. */
export type LoadGenerator = "auto" | "wrk" | "deno";

/** The driver for `generator`; throws when `wrk` is asked for and does not run here. */
export async function pickLoadDriver(
  generator: LoadGenerator,
): Promise<LoadDriver> {
  if (generator === "deno") return denoClientDriver;
  if (await isWrkInstalled()) return wrkDriver;
  if (generator === "wrk") throw new Error("wrk is not installed");
  return denoClientDriver;
}

async function isWrkInstalled(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `wrk --latency`, a warm-up run first (wrk takes whole seconds). */
export const wrkDriver: LoadDriver = {
  name: "wrk",
  async run(url, headers, options, span) {
    const base = [
      `-t${Math.min(options.clients, options.connections)}`,
      `-c${options.connections}`,
      ...Object.entries(headers).flatMap(([name, value]) => [
        "-H",
        `${name}: ${value}`,
      ]),
    ];
    await runWrk([...base, `-d${wholeSeconds(options.warmUpMs)}s`, url]);
    await span?.start();
    const output = await runWrk([
      ...base,
      `-d${wholeSeconds(options.durationMs)}s`,
      "--latency",
      url,
    ]);
    await span?.stop();
    return parseWrkOutput(output);
  },
};

function wholeSeconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}

async function runWrk(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("wrk", { args })
    .output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(
      `wrk exited with ${code}: ${new TextDecoder().decode(stderr)}${text}`,
    );
  }
  return text;
}

/** Reads requests/s, the 50% and 99% latencies and the failures out of `wrk --latency`'s report. */
export function parseWrkOutput(output: string): RunResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)\b/m.exec(output);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\b/m.exec(output);
  if (rate === null || p50 === null || p99 === null) {
    throw new Error(`Unexpected wrk output:\n${output}`);
  }
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(output);
  const socketErrors = socket === null
    ? 0
    : socket.slice(1).reduce((sum, count) => sum + Number(count), 0);
  return {
    requestsPerSecond: Number(rate[1]),
    p50Ms: toMs(p50),
    p99Ms: toMs(p99),
    failed: Number(non2xx?.[1] ?? 0) + socketErrors,
  };
}

function toMs([, value, unit]: RegExpExecArray): number {
  const scale = unit === "us" ? 0.001 : unit === "s" ? 1000 : 1;
  return Number(value) * scale;
}

/** {@link ./load_client.ts} in `clients` processes, sharing the connections. */
export const denoClientDriver: LoadDriver = {
  name: "Deno raw-socket HTTP/1.1 client",
  async run(url, headers, options, span) {
    const startAtMs = Date.now() + CLIENT_LEAD_MS;
    const processes = Math.min(options.clients, options.connections);
    // The clients measure from startAtMs + warmUpMs for durationMs.
    const measuredAtMs = startAtMs + options.warmUpMs;
    const spanDone = span === undefined ? Promise.resolve() : (async () => {
      await delayUntil(measuredAtMs);
      await span.start();
      await delayUntil(measuredAtMs + options.durationMs);
      await span.stop();
    })();
    const reports = await Promise.all(
      Array.from({ length: processes }, (_, index) =>
        runClientProcess({
          url,
          headers,
          connections: share(options.connections, processes, index),
          startAtMs,
          warmUpMs: options.warmUpMs,
          durationMs: options.durationMs,
        })),
    );
    await spanDone;
    const latencies = new Float64Array(
      reports.flatMap((report) => report.latenciesMs),
    ).sort();
    const answered = reports.reduce((sum, r) => sum + r.ok + r.failed, 0);
    return {
      requestsPerSecond: answered / (options.durationMs / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      failed: reports.reduce((sum, r) => sum + r.failed, 0),
    };
  },
};

function delayUntil(atMs: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, atMs - Date.now()))
  );
}

/** Connections of client `index` when `total` are split over `parts`. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

async function runClientProcess(plan: ClientPlan): Promise<ClientReport> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      CLIENT_SCRIPT.pathname,
      JSON.stringify(plan),
    ],
    stdin: "null",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Load client exited with ${code}: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(stdout)) as ClientReport;
}

/** The nearest-rank percentile of sorted values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, percent: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(percent / 100 * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
