/**
 * The soak's figures: one line per figure, the musts that decide the exit
 * code, and Markdown tables ready for docs/reliability.md.
 *
 * @module
 */

import { percentile } from "./load_driver.ts";
import { FAULT_PHASES, type UpstreamCounts } from "./soak_faults.ts";
import { type LogScan, octal } from "./soak_logs.ts";
import type { MemorySummary } from "./soak_memory.ts";
import { KIND_WEIGHTS, type RequestKind, Tally } from "./soak_traffic.ts";

/** Everything the soak measured. */
export interface SoakFigures {
  readonly durationS: number;
  readonly clients: number;
  readonly phaseMs: number;
  readonly tally: Tally;
  readonly upstream: UpstreamCounts;
  readonly rotations: number;
  readonly rotationLagsMs: readonly number[];
  /** Times the agent process was gone before the soak stopped it. */
  readonly crashes: number;
  /** The agent's exit code once stopped with SIGTERM (or when it crashed). */
  readonly exitCode: number;
  readonly memory: MemorySummary;
  readonly logs: LogScan;
}

/** One condition the run must meet. */
export interface Must {
  readonly figure: string;
  readonly must: string;
  readonly measured: string;
  readonly isMet: boolean;
}

/** The conditions that decide the exit code. */
export function musts(figures: SoakFigures): Must[] {
  const { tally, memory, logs } = figures;
  const checked = count200(tally);
  const logHits = Tally.total(logs.hits);
  const mb = (value: number) => `${value.toFixed(1)} MiB`;
  return [
    {
      figure: "Agent crashes (process gone during the run)",
      must: "0",
      measured: String(figures.crashes),
      isMet: figures.crashes === 0,
    },
    {
      figure: "Exit code on SIGTERM",
      must: "0",
      measured: String(figures.exitCode),
      isMet: figures.exitCode === 0,
    },
    {
      figure: "Resident memory after warm-up: first / last / max",
      must: `last - first <= ${mb(memory.limitMb)}`,
      measured: `${mb(memory.firstMb)} / ${mb(memory.lastMb)} / ${
        mb(memory.maxMb)
      }${memory.isJudged ? "" : " (not judged: --quick ends inside warm-up)"}`,
      isMet: memory.isFlat || !memory.isJudged,
    },
    {
      figure: "200 bodies not the current or previous value of that secret",
      must: "0",
      measured: `${Tally.total(tally.mismatches)} of ${checked}`,
      isMet: tally.mismatches.size === 0,
    },
    {
      figure: "Answers a kind must never get (bad token not 403, ...)",
      must: "0",
      measured: String(Tally.total(tally.unexpected)),
      isMet: tally.unexpected.size === 0,
    },
    {
      figure: "Error bodies holding a secret value",
      must: "0",
      measured: String(tally.leakyErrorBodies),
      isMet: tally.leakyErrorBodies === 0,
    },
    {
      figure:
        "Log hits: secret values, SSRF token, secret access key, Authorization, AWS4-HMAC-SHA256",
      must: "0",
      measured: `${logHits} in ${logs.files.length} files`,
      isMet: logHits === 0 && logs.files.length > 0,
    },
    {
      figure: "Log file / logs folder mode (and every entry below)",
      must: "0600 / 0700",
      measured: `${octal(logs.logFileMode)} / ${octal(logs.folderMode)}${
        logs.wrongModes.length > 0 ? ` (${logs.wrongModes.join(", ")})` : ""
      }`,
      isMet: logs.logFileMode === 0o600 && logs.folderMode === 0o700 &&
        logs.wrongModes.length === 0,
    },
  ];
}

function count200(tally: Tally): number {
  let total = 0;
  for (const labels of tally.statuses.values()) total += labels.get("200") ?? 0;
  return total;
}

/** `label count, label count, ...`, most frequent first. */
function breakdown(counts: ReadonlyMap<string, number>): string {
  if (counts.size === 0) return "none";
  return [...counts].sort((a, b) => b[1] - a[1])
    .map(([label, count]) => `${label} ${count}`).join(", ");
}

/** Every kind's statuses added together. */
function allStatuses(tally: Tally): Map<string, number> {
  const all = new Map<string, number>();
  for (const labels of tally.statuses.values()) {
    for (const [label, count] of labels) {
      all.set(label, (all.get(label) ?? 0) + count);
    }
  }
  return all;
}

/** The figure lines, the musts and the tables for docs/reliability.md. */
export function formatSoakReport(figures: SoakFigures): string {
  const { tally, upstream, logs, memory } = figures;
  const served = tally.served();
  const all = allStatuses(tally);
  const clientFailures = [...all].filter(([label]) =>
    label.startsWith("client ")
  ).reduce((sum, [, count]) => sum + count, 0);
  const lags = new Float64Array(figures.rotationLagsMs).sort();
  const logBytes = logs.files.reduce((sum, file) => sum + file.bytes, 0);
  const lines = [
    `duration: ${
      figures.durationS.toFixed(1)
    } s, ${figures.clients} clients, fault phases of ${
      figures.phaseMs / 1000
    } s: ${
      FAULT_PHASES.map((phase) => phase.name).join(", ")
    } (${upstream.phases} phases run)`,
    `requests served: ${served} (${
      (served / figures.durationS).toFixed(0)
    } req/s), client timeouts and errors: ${clientFailures}`,
    `statuses all: ${breakdown(all)}`,
    ...kinds().map((kind) =>
      `statuses ${kind}: ${breakdown(tally.statuses.get(kind) ?? new Map())}`
    ),
    `upstream calls: ${breakdown(upstream.calls)}; faults met: ${
      breakdown(upstream.faulted)
    }`,
    `rotations: ${figures.rotations} (new value first served after median ${
      percentile(lags, 50).toFixed(0)
    } ms, max ${percentile(lags, 100).toFixed(0)} ms)`,
    `crashes: ${figures.crashes} (exit code on SIGTERM ${figures.exitCode})`,
    `memory: first after warm-up ${memory.firstMb.toFixed(1)} MiB, last ${
      memory.lastMb.toFixed(1)
    } MiB, max ${memory.maxMb.toFixed(1)} MiB (growth ${
      (memory.lastMb - memory.firstMb).toFixed(1)
    } MiB, limit ${memory.limitMb.toFixed(1)} MiB, ${memory.samples} samples)`,
    `memory samples (MiB, from the start): ${memory.traceMb.join(" ")}`,
    `mismatches: ${Tally.total(tally.mismatches)} of ${
      count200(tally)
    } answers 200 checked${
      tally.mismatches.size > 0 ? ` (${breakdown(tally.mismatches)})` : ""
    }`,
    `unexpected answers: ${Tally.total(tally.unexpected)}${
      tally.unexpected.size > 0 ? ` (${breakdown(tally.unexpected)})` : ""
    }`,
    `error bodies holding a secret value: ${tally.leakyErrorBodies}`,
    `log hits: ${Tally.total(logs.hits)} (${
      breakdown(logs.hits)
    }) in ${logs.files.length} files, ${(logBytes / 1e6).toFixed(1)} MB${
      logs.unreadable.length > 0
        ? `; unreadable: ${logs.unreadable.join(", ")}`
        : ""
    }`,
    `log modes: file ${octal(logs.logFileMode)}, folder ${
      octal(logs.folderMode)
    }, entries with another mode: ${logs.wrongModes.join(", ") || "none"}`,
    ...tally.examples.map((example) => `example: ${example}`),
  ];
  return [...lines, "", markdownTables(figures)].join("\n");
}

function kinds(): RequestKind[] {
  return Object.keys(KIND_WEIGHTS) as RequestKind[];
}

function markdownTables(figures: SoakFigures): string {
  const { tally } = figures;
  const served = tally.served();
  return [
    "| Kind | Share | Requests | Answers |",
    "| --- | ---: | ---: | --- |",
    ...kinds().map((kind) => {
      const labels = tally.statuses.get(kind) ?? new Map<string, number>();
      return `| ${kind} | ${KIND_WEIGHTS[kind]} % | ${Tally.total(labels)} | ${
        breakdown(labels)
      } |`;
    }),
    "",
    "| Figure | Must | Measured | Met |",
    "| --- | --- | --- | --- |",
    `| Duration, clients | | ${
      figures.durationS.toFixed(0)
    } s, ${figures.clients} | |`,
    `| Requests served | | ${served} (${
      (served / figures.durationS).toFixed(0)
    } req/s) | |`,
    `| Secret rotations during the run | | ${figures.rotations} | |`,
    ...musts(figures).map((must) =>
      `| ${must.figure} | ${must.must} | ${must.measured} | ${
        must.isMet ? "yes" : "no"
      } |`
    ),
  ].join("\n");
}
