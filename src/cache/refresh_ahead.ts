/**
 * Refresh-ahead timing: when to renew an entry before it expires (with jitter,
 * so a fleet of agents does not call Secrets Manager in lock-step), and the
 * timers that do it, behind a scheduler that tests replace with a manual one.
 *
 * @module
 */

/** A scheduler's handle for one timer: opaque to its users. */
export type TimerHandle = unknown;

/** Timers as the cache uses them; injected so tests move time by hand. */
export interface Scheduler {
  /** Calls `callback` once after `delayMs`; the timer must not keep the process alive. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer that has not fired yet; unknown handles are ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** The platform's timers, unref'd so that a pending renewal never keeps the process alive. */
export const SYSTEM_SCHEDULER: Scheduler = Object.freeze({
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    // Deno 2.9 returns a Node-style Timeout object; unrefTimer takes it as is
    // (and silently ignores its numeric value).
    const timer = setTimeout(callback, delayMs);
    Deno.unrefTimer(timer);
    return timer;
  },
  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});

/** The default `refresh_ahead_percent`. */
export const DEFAULT_REFRESH_AHEAD_PERCENT = 80;

/** Options of {@linkcode refreshPointMs}. */
export interface RefreshPointOptions {
  /** The earliest renewal point, in percent of the TTL (0 to 100). */
  readonly percent: number;
  /** A uniform random number in [0, 1); values outside are clamped. */
  readonly random: () => number;
}

/**
 * When to renew an entry fresh since `freshSinceMs`: a uniformly random point
 * between `percent`% of the TTL and halfway from there to expiry, so the
 * renewal has at least half of the remaining time to finish.
 *
 * @example
 * ```ts
 * // With the default 80%: between 240 s and 270 s into a 300 s TTL.
 * refreshPointMs(0, 300_000, { percent: 80, random: () => 0.5 }); // 255_000
 * ```
 */
export function refreshPointMs(
  freshSinceMs: number,
  ttlMs: number,
  options: RefreshPointOptions,
): number {
  const earliestMs = ttlMs * options.percent / 100;
  const spreadMs = (ttlMs - earliestMs) / 2;
  const draw = options.random();
  const fraction = draw >= 0 && draw < 1 ? draw : draw >= 1 ? 1 : 0;
  return freshSinceMs + earliestMs + spreadMs * fraction;
}

/**
 * One pending timer per key at most: scheduling a key again replaces its
 * timer, a fired timer forgets itself, and `close` cancels them all and
 * refuses new ones.
 */
export class RefreshTimers {
  readonly #scheduler: Scheduler;
  readonly #timers = new Map<string, { readonly handle: TimerHandle }>();
  #isClosed = false;

  /** Timers on `scheduler` (the platform's, unref'd, by default). */
  constructor(scheduler: Scheduler = SYSTEM_SCHEDULER) {
    this.#scheduler = scheduler;
  }

  /** How many timers are pending. */
  get size(): number {
    return this.#timers.size;
  }

  /** Whether `close` was called. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Whether a timer is pending for `key`. */
  has(key: string): boolean {
    return this.#timers.has(key);
  }

  /** Calls `callback` after `delayMs` (0 if negative), replacing `key`'s pending timer; ignored once closed. */
  schedule(key: string, delayMs: number, callback: () => void): void {
    this.cancel(key);
    // No point (a throttling back-off's window): setTimeout would read an
    // infinite delay as 1 ms and renew at once.
    if (this.#isClosed || !Number.isFinite(delayMs)) return;
    // The record itself tells a replaced timer from the current one, whatever
    // handles the scheduler hands out.
    const timer = {
      handle: this.#scheduler.setTimer(() => {
        if (this.#timers.get(key) !== timer) return;
        this.#timers.delete(key);
        callback();
      }, Math.max(0, delayMs)),
    };
    this.#timers.set(key, timer);
  }

  /** Cancels `key`'s pending timer, if any. */
  cancel(key: string): void {
    const timer = this.#timers.get(key);
    if (timer === undefined) return;
    this.#timers.delete(key);
    this.#scheduler.clearTimer(timer.handle);
  }

  /** Cancels every pending timer; later `schedule` calls do nothing. */
  close(): void {
    this.#isClosed = true;
    for (const { handle } of this.#timers.values()) {
      this.#scheduler.clearTimer(handle);
    }
    this.#timers.clear();
  }
}
