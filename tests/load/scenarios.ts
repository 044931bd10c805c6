/**
 * The load test's scenarios beyond throughput, each against a fresh agent
 * process and the local Secrets Manager: coalescing of concurrent misses,
 * latency across TTL expiries, start-up time, and resident memory.
 *
 * @module
 */

import { type RunningAgent, startAgent } from "../support/agent_process.ts";
import type { SecretsManagerServer } from "../support/secrets_manager_server.ts";
import { percentile } from "./load_driver.ts";

/** The query-style path of a secret. */
export function secretPath(secretId: string): string {
  return `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
}

/** GET through the agent, failing on anything but 200; resolves to the body. */
export async function getSecret(
  agent: RunningAgent,
  secretId: string,
): Promise<string> {
  const response = await agent.get(secretPath(secretId));
  if (response.status !== 200) {
    throw new Error(
      `GET ${secretId} answered ${response.status}: ${response.body}`,
    );
  }
  return response.body;
}

/** What {@linkcode measureCoalescing} found. */
export interface CoalescingResult {
  readonly requests: number;
  readonly getSecretValueCalls: number;
}

/** N simultaneous requests for one uncached secret, upstream slowed: how many GetSecretValue calls. */
export async function measureCoalescing(
  server: SecretsManagerServer,
  options: { readonly requests: number; readonly latencyMs: number },
): Promise<CoalescingResult> {
  await using agent = await startAgent({ endpoint: server.url });
  const secretId = `bench/coalesced-${crypto.randomUUID()}`;
  server.createSecret(secretId, JSON.stringify({ token: "coalesce-me" }));
  server.resetCalls();
  server.setFault({ kind: "latency", ms: options.latencyMs }, {
    operations: ["GetSecretValue"],
  });
  try {
    const bodies = await Promise.all(
      Array.from(
        { length: options.requests },
        () => getSecret(agent, secretId),
      ),
    );
    if (new Set(bodies).size !== 1) throw new Error("answers differ");
  } finally {
    server.setFault(undefined);
  }
  return {
    requests: options.requests,
    getSecretValueCalls: server.countCalls("GetSecretValue"),
  };
}

/** Options of {@linkcode measureExpiries}. */
export interface ExpiriesOptions {
  readonly ttlSeconds: number;
  readonly expiries: number;
  readonly requestsPerSecond: number;
  /** Added to every upstream call during the run. */
  readonly latencyMs: number;
  /** The agent's `refresh_ahead_percent`; default: the agent's default. */
  readonly refreshAheadPercent?: number;
}

/** What {@linkcode measureExpiries} found. */
export interface ExpiriesResult {
  readonly requests: number;
  readonly worstMs: number;
  readonly p50Ms: number;
  /** When the worst request was sent, in ms since the secret was cached. */
  readonly worstAtMs: number;
  /** Requests slower than 20 ms. */
  readonly slowRequests: number;
  /** DescribeSecret and GetSecretValue calls during the run. */
  readonly upstreamCalls: number;
}

const SLOW_MS = 20;

/**
 * A steady open-loop client on one cached secret for `expiries` TTLs, with
 * every upstream call slowed: the latencies it saw.
 */
export async function measureExpiries(
  server: SecretsManagerServer,
  options: ExpiriesOptions,
): Promise<ExpiriesResult> {
  await using agent = await startAgent({
    endpoint: server.url,
    config: `ttl_seconds = ${options.ttlSeconds}\nrefresh_ahead = true\n${
      options.refreshAheadPercent === undefined
        ? ""
        : `refresh_ahead_percent = ${options.refreshAheadPercent}\n`
    }`,
  });
  const secretId = `bench/steady-${crypto.randomUUID()}`;
  server.createSecret(secretId, JSON.stringify({ token: "steady" }));
  await getSecret(agent, secretId);
  const cachedAt = performance.now();
  server.resetCalls();
  server.setFault({ kind: "latency", ms: options.latencyMs });
  const samples: Promise<{ sentAt: number; ms: number }>[] = [];
  try {
    const intervalMs = 1000 / options.requestsPerSecond;
    const runMs = options.expiries * options.ttlSeconds * 1000 + 500;
    const start = performance.now();
    for (let i = 0; i * intervalMs <= runMs; i++) {
      const waitMs = start + i * intervalMs - performance.now();
      if (waitMs > 0) await new Promise((done) => setTimeout(done, waitMs));
      samples.push(timed(() => getSecret(agent, secretId)));
    }
    await Promise.all(samples);
  } finally {
    server.setFault(undefined);
  }
  const measured = await Promise.all(samples);
  const worst = measured.reduce((a, b) => b.ms > a.ms ? b : a);
  const sorted = new Float64Array(measured.map((sample) => sample.ms)).sort();
  return {
    requests: sorted.length,
    worstMs: worst.ms,
    worstAtMs: worst.sentAt - cachedAt,
    p50Ms: percentile(sorted, 50),
    slowRequests: sorted.filter((ms) => ms >= SLOW_MS).length,
    upstreamCalls: server.countCalls("DescribeSecret") +
      server.countCalls("GetSecretValue"),
  };
}

async function timed(
  work: () => Promise<unknown>,
): Promise<{ sentAt: number; ms: number }> {
  const sentAt = performance.now();
  await work();
  return { sentAt, ms: performance.now() - sentAt };
}

/** What {@linkcode measureStartup} found. */
export interface StartupResult {
  readonly medianMs: number;
  readonly samplesMs: readonly number[];
}

/** From spawning the agent to its first 200 on `/ping`, `starts` times. */
export async function measureStartup(
  server: SecretsManagerServer,
  options: { readonly starts: number },
): Promise<StartupResult> {
  const samplesMs: number[] = [];
  for (let i = 0; i < options.starts; i++) {
    await using agent = await startAgent({ endpoint: server.url });
    while ((await agent.get("/ping", { token: null })).status !== 200) {
      await new Promise((done) => setTimeout(done, 1));
    }
    samplesMs.push(performance.now() - agent.spawnedAt);
  }
  const sorted = new Float64Array(samplesMs).sort();
  return { medianMs: percentile(sorted, 50), samplesMs };
}

/** What {@linkcode measureMemory} found, in MiB. */
export interface MemoryResult {
  readonly secrets: number;
  readonly secretBytes: number;
  readonly idleMb: number;
  readonly loadedMb: number;
  /** RssAnon once loaded. */
  readonly loadedAnonMb: number;
}

/** The agent's VmRSS at start, and once `secrets` secrets of `secretBytes` are cached. */
export async function measureMemory(
  server: SecretsManagerServer,
  options: { readonly secrets: number; readonly secretBytes: number },
): Promise<MemoryResult> {
  await using agent = await startAgent({ endpoint: server.url });
  const idleMb = await residentMb(agent.pid);
  const run = crypto.randomUUID();
  const ids = Array.from(
    { length: options.secrets },
    (_, i) => `bench/memory-${run}/secret-${String(i).padStart(5, "0")}`,
  );
  for (const id of ids) {
    server.createSecret(id, randomText(options.secretBytes));
  }
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < ids.length) await getSecret(agent, ids[next++]);
  }));
  const loaded = await processMemory(agent.pid);
  return {
    ...options,
    idleMb,
    loadedMb: loaded.rssMb,
    loadedAnonMb: loaded.anonMb,
  };
}

/** A process's resident memory, in MiB: all of it, and its anonymous part. */
export interface ProcessMemory {
  readonly rssMb: number;
  /** RssAnon: heap and other memory not backed by a file (code pages are not). */
  readonly anonMb: number;
}

/**
 * VmRSS and RssAnon of a process, from /proc (Linux). Read through `cat`:
 * Deno grants /proc/<pid> files only to --allow-all.
 */
export async function processMemory(pid: number): Promise<ProcessMemory> {
  const { code, stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stderr: "null",
  }).output();
  const status = new TextDecoder().decode(stdout);
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const anon = /^RssAnon:\s+(\d+) kB/m.exec(status);
  if (code !== 0 || rss === null || anon === null) {
    throw new Error(
      `No VmRSS or RssAnon in /proc/${pid}/status (cat exited ${code})`,
    );
  }
  return { rssMb: Number(rss[1]) / 1024, anonMb: Number(anon[1]) / 1024 };
}

/** VmRSS of a process, in MiB (see {@linkcode processMemory}). */
export async function residentMb(pid: number): Promise<number> {
  return (await processMemory(pid)).rssMb;
}

/**
 * CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat
 * (Linux; clock ticks of 10 ms, as the kernel reports them to user space).
 */
export async function cpuTimeMs(pid: number): Promise<number> {
  const { code, stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stderr: "null",
  }).output();
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = new TextDecoder().decode(stdout).split(") ")[1]?.split(" ");
  const ticks = Number(fields?.[11]) + Number(fields?.[12]);
  if (code !== 0 || !Number.isFinite(ticks)) {
    throw new Error(`No CPU times in /proc/${pid}/stat (cat exited ${code})`);
  }
  return ticks * 10;
}

function randomText(length: number): string {
  const bytes = crypto.getRandomValues(
    new Uint8Array(Math.ceil(length * 3 / 4)),
  );
  return btoa(String.fromCharCode(...bytes)).slice(0, length);
}
