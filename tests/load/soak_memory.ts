/**
 * Watches the agent process during the soak: its resident memory sampled at
 * an interval (through {@linkcode residentMb}), and whether it is still
 * running (a process that exited has no VmRSS).
 *
 * @module
 */

import { delay } from "../support/node_http_io.ts";
import { residentMb } from "./scenarios.ts";

/** One memory sample. */
export interface MemorySample {
  /** Since the watch started. */
  readonly atMs: number;
  readonly mb: number;
}

/** What {@linkcode watchAgent} saw. */
export interface AgentWatch {
  readonly samples: MemorySample[];
  /** The process was gone before the watch ended: it crashed or exited. */
  isGone: boolean;
}

/** Options of {@linkcode watchAgent}. */
export interface WatchOptions {
  readonly intervalMs: number;
  /** Ends the watch. */
  readonly signal: AbortSignal;
  /** Upper bound on samples. */
  readonly maxSamples: number;
  /** Called once when the process is found gone. */
  readonly onGone: () => void;
}

/** Samples `pid`'s VmRSS until `signal` aborts or the process is gone. */
export async function watchAgent(
  pid: number,
  options: WatchOptions,
): Promise<AgentWatch> {
  const watch: AgentWatch = { samples: [], isGone: false };
  const start = performance.now();
  for (let i = 0; i < options.maxSamples && !options.signal.aborted; i++) {
    try {
      const mb = await residentMb(pid);
      watch.samples.push({ atMs: performance.now() - start, mb });
    } catch {
      watch.isGone = true;
      options.onGone();
      break;
    }
    await delay(options.intervalMs, options.signal);
  }
  return watch;
}

/** The memory figures after warm-up, in MiB. */
export interface MemorySummary {
  readonly firstMb: number;
  readonly lastMb: number;
  readonly maxMb: number;
  /** Samples after warm-up. */
  readonly samples: number;
  /** The most `lastMb - firstMb` may be for memory to count as flat. */
  readonly limitMb: number;
  readonly isFlat: boolean;
  /** False on a run too short to leave warm-up (`--quick`): flatness is then reported, not required. */
  readonly isJudged: boolean;
  /** Every sample (warm-up included), rounded to whole MiB, oldest first. */
  readonly traceMb: readonly number[];
}

/** Growth allowed after warm-up: 10 MiB or 15 %, whichever is more (GC keeps a sawtooth). */
export function growthLimitMb(firstMb: number): number {
  return Math.max(10, firstMb * 0.15);
}

/** First-after-warm-up, last and max of the samples taken after `warmUpMs`. */
export function summarizeMemory(
  samples: readonly MemorySample[],
  options: { readonly warmUpMs: number; readonly isJudged: boolean },
): MemorySummary {
  const { warmUpMs, isJudged } = options;
  const settled = samples.filter((sample) => sample.atMs >= warmUpMs);
  const traceMb = samples.map((sample) => Math.round(sample.mb));
  if (settled.length < 2) {
    return {
      firstMb: NaN,
      lastMb: NaN,
      maxMb: NaN,
      samples: settled.length,
      limitMb: NaN,
      isFlat: false,
      isJudged,
      traceMb,
    };
  }
  const firstMb = settled[0].mb;
  const lastMb = settled.at(-1)!.mb;
  const limitMb = growthLimitMb(firstMb);
  return {
    firstMb,
    lastMb,
    maxMb: Math.max(...settled.map((sample) => sample.mb)),
    samples: settled.length,
    limitMb,
    isFlat: lastMb - firstMb <= limitMb,
    isJudged,
    traceMb,
  };
}
