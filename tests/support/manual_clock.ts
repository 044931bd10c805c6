/**
 * A clock and a `Scheduler` that move only when the test says so: `advance`
 * fires due timers in time order and lets the work they start settle.
 *
 * @module
 */

import type { Scheduler } from "../../src/cache/refresh_ahead.ts";

interface PendingTimer {
  readonly atMs: number;
  readonly callback: () => void;
}

/** Manual time in epoch milliseconds, with timers that fire on `advance`. */
export class ManualClock implements Scheduler {
  #nowMs: number;
  #nextId = 1;
  readonly #timers = new Map<number, PendingTimer>();

  /** Starts at `startMs`. */
  constructor(startMs = 1_000_000) {
    this.#nowMs = startMs;
  }

  /** The current time; pass it as a `now` option. */
  readonly now = (): number => this.#nowMs;

  /** How many timers have not fired or been cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the earliest pending timer fires, if any. */
  get nextTimerAtMs(): number | undefined {
    let earliest: number | undefined;
    for (const { atMs } of this.#timers.values()) {
      if (earliest === undefined || atMs < earliest) earliest = atMs;
    }
    return earliest;
  }

  /** Registers `callback` to fire once `delayMs` from now (negative counts as 0). */
  setTimer(callback: () => void, delayMs: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, {
      atMs: this.#nowMs + Math.max(0, delayMs),
      callback,
    });
    return id;
  }

  /** Forgets a pending timer. */
  clearTimer(id: number): void {
    this.#timers.delete(id);
  }

  /**
   * Moves time forward by `ms`, firing each due timer at its own time, in
   * order, and letting the promises it starts settle before going on.
   */
  async advance(ms: number): Promise<void> {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      const due = this.#earliestDue(targetMs);
      if (due === undefined) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#nowMs = Math.max(this.#nowMs, timer.atMs);
      timer.callback();
      await settle();
    }
    this.#nowMs = targetMs;
    await settle();
  }

  /** Sets the time without firing anything, as a clock stepped by NTP would. */
  set(nowMs: number): void {
    this.#nowMs = nowMs;
  }

  #earliestDue(targetMs: number): [number, PendingTimer] | undefined {
    let due: [number, PendingTimer] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].atMs > targetMs) continue;
      if (due === undefined || entry[1].atMs < due[1].atMs) due = entry;
    }
    return due;
  }
}

/** Lets every pending promise chain run: one macrotask drains the microtask queue. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
