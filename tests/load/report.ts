/**
 * The load test's figures as Markdown tables, ready for docs/performance.md:
 * the two servers side by side, then each target with its measurement.
 *
 * @module
 */

import type { RunResult } from "./load_driver.ts";
import type {
  CoalescingResult,
  ExpiriesResult,
  MemoryResult,
  StartupResult,
} from "./scenarios.ts";

/** Everything the load test measured. */
export interface Figures {
  readonly bare: RunResult & { readonly cpuUsPerRequest: number };
  readonly agent: RunResult & { readonly cpuUsPerRequest: number };
  readonly coalescing: CoalescingResult;
  readonly expiries: ExpiriesResult & { readonly expiries: number };
  readonly startup: StartupResult;
  readonly memory: MemoryResult;
}

/** One row of the targets table. */
interface Row {
  readonly figure: string;
  readonly target: string;
  readonly measured: string;
  readonly isMet: boolean;
}

/** The throughput table and the targets table, in Markdown. */
export function formatReport(figures: Figures): string {
  const { bare, agent, coalescing, expiries, startup, memory } = figures;
  const throughputRatio = agent.requestsPerSecond / bare.requestsPerSecond;
  const p99Ratio = agent.p99Ms / bare.p99Ms;
  const cpuRatio = agent.cpuUsPerRequest / bare.cpuUsPerRequest;
  const rows: Row[] = [
    {
      figure: "Cache-hit throughput, agent / bare `Deno.serve`",
      target: ">= 0.90 x",
      measured: `${throughputRatio.toFixed(2)} x`,
      isMet: throughputRatio >= 0.9,
    },
    {
      figure: "Cache-hit CPU time per request, agent / bare `Deno.serve`",
      target: "<= 1.1 x",
      measured: `${cpuRatio.toFixed(2)} x`,
      isMet: cpuRatio <= 1.1,
    },
    {
      figure: "Cache-hit p99 latency, agent / bare `Deno.serve`",
      target: "<= 2 x",
      measured: `${p99Ratio.toFixed(2)} x`,
      isMet: p99Ratio <= 2,
    },
    {
      figure:
        `GetSecretValue calls for ${coalescing.requests} concurrent requests of one uncached secret (200 ms upstream)`,
      target: "1",
      measured: String(coalescing.getSecretValueCalls),
      isMet: coalescing.getSecretValueCalls === 1,
    },
    {
      figure:
        `Worst latency, 50 req/s across ${expiries.expiries} TTL expiries (ttl_seconds = 2, 300 ms upstream)`,
      target: "< 20 ms",
      measured: `${expiries.worstMs.toFixed(1)} ms`,
      isMet: expiries.worstMs < 20,
    },
    {
      figure:
        `Start-up to healthy /ping (median of ${startup.samplesMs.length})`,
      target: "< 250 ms",
      measured: `${startup.medianMs.toFixed(0)} ms`,
      isMet: startup.medianMs < 250,
    },
    {
      figure:
        `Resident memory (VmRSS) with ${memory.secrets} cached secrets of ${
          memory.secretBytes / 1024
        } KB`,
      target: "< 90 MB",
      measured: `${memory.loadedMb.toFixed(1)} MiB (${
        (memory.loadedMb * MB_PER_MIB).toFixed(1)
      } MB)`,
      isMet: memory.loadedMb * MB_PER_MIB < 90,
    },
  ];
  return [
    "| Server | req/s | p50 | p99 | CPU per request |",
    "| --- | ---: | ---: | ---: | ---: |",
    serverRow("bare `Deno.serve` (token check, fixed body)", bare),
    serverRow("agent, cache hit", agent),
    "",
    "| Figure | Target | Measured | Met |",
    "| --- | --- | ---: | --- |",
    ...rows.map((row) =>
      `| ${row.figure} | ${row.target} | ${row.measured} | ${
        row.isMet ? "yes" : "no"
      } |`
    ),
  ].join("\n");
}

function serverRow(
  name: string,
  run: RunResult & { readonly cpuUsPerRequest: number },
): string {
  return `| ${name} | ${run.requestsPerSecond.toFixed(0)} | ${
    run.p50Ms.toFixed(2)
  } ms | ${run.p99Ms.toFixed(2)} ms | ${run.cpuUsPerRequest.toFixed(1)} µs |`;
}

/** The target is in MB (10^6 bytes); VmRSS is read in MiB. */
const MB_PER_MIB = 1.048576;
