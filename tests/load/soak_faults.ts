/**
 * The soak's fault schedule: the local Secrets Manager misbehaves in turn
 * (latency, 500, 503, throttling, connection resets, stalls), with a clean
 * phase between two faults, and the calls it received are counted phase by
 * phase (and then forgotten, so the record stays small).
 *
 * @module
 */

import type {
  Fault,
  SecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import { delay } from "../support/node_http_io.ts";

/** One phase of the schedule. */
export interface FaultPhase {
  readonly name: string;
  /** Undefined: the server behaves. */
  readonly fault: Fault | undefined;
}

const CLEAN: FaultPhase = { name: "clean", fault: undefined };

/** The phases, in order; the schedule repeats them. */
export const FAULT_PHASES: readonly FaultPhase[] = [
  CLEAN,
  { name: "latency 400 ms", fault: { kind: "latency", ms: 400 } },
  CLEAN,
  { name: "500", fault: { kind: "status", status: 500 } },
  CLEAN,
  { name: "503", fault: { kind: "status", status: 503 } },
  CLEAN,
  { name: "throttling", fault: { kind: "throttle" } },
  CLEAN,
  { name: "connection reset", fault: { kind: "reset" } },
  CLEAN,
  { name: "stall", fault: { kind: "stall" } },
];

/** What the server saw over the schedule. */
export interface UpstreamCounts {
  /** Operation -> calls received. */
  readonly calls: Map<string, number>;
  /** Fault kind -> calls that met it. */
  readonly faulted: Map<string, number>;
  /** Phases started. */
  phases: number;
}

/** Options of {@linkcode runFaultSchedule}. */
export interface FaultScheduleOptions {
  readonly phaseMs: number;
  /** Stops the schedule; the server then behaves. */
  readonly signal: AbortSignal;
  /** Upper bound on phases. */
  readonly maxPhases: number;
}

/** Cycles through {@linkcode FAULT_PHASES} until `signal` aborts. */
export async function runFaultSchedule(
  server: SecretsManagerServer,
  options: FaultScheduleOptions,
): Promise<UpstreamCounts> {
  const counts: UpstreamCounts = {
    calls: new Map(),
    faulted: new Map(),
    phases: 0,
  };
  try {
    for (let i = 0; i < options.maxPhases && !options.signal.aborted; i++) {
      server.setFault(FAULT_PHASES[i % FAULT_PHASES.length].fault);
      counts.phases++;
      await delay(options.phaseMs, options.signal);
      harvestCalls(server, counts);
    }
  } finally {
    server.setFault(undefined);
  }
  harvestCalls(server, counts);
  return counts;
}

/** Adds the calls recorded since the last harvest to `counts`, then forgets them. */
export function harvestCalls(
  server: SecretsManagerServer,
  counts: UpstreamCounts,
): void {
  const add = (map: Map<string, number>, key: string) =>
    map.set(key, (map.get(key) ?? 0) + 1);
  for (const call of server.calls()) {
    add(counts.calls, call.operation || "(unidentified)");
    if (call.fault !== undefined) add(counts.faulted, call.fault);
  }
  server.resetCalls();
}
