/**
 * Requests anyone on the host can send without the token (`/ping`, and every
 * request the agent refuses: 400, 403, 404, 405, 429) are logged at a bounded
 * rate, so a flood of them cannot rotate the log away. The first one after a
 * quiet window is logged as its own line, so a single misconfigured client
 * is still seen with its path; the ones that follow within the window are
 * counted by route and status, and one summary line per window says how
 * many there were. A window without any ends the summaries. So there is at
 * most one line per window, and memory holds a few counters, never a URL.
 *
 * @module
 */

import {
  type Scheduler,
  SYSTEM_SCHEDULER,
  type TimerHandle,
} from "../cache/refresh_ahead.ts";

/** Options of {@linkcode RefusalLog}. */
export interface RefusalLogOptions {
  /** Where the lines go. */
  readonly log: { info(message: string): void };
  /** How long a window lasts; default 1000 ms. */
  readonly windowMs?: number;
  /** Timers; default the platform's, unref'd. */
  readonly scheduler?: Scheduler;
}

/** Default length of a window. */
export const DEFAULT_WINDOW_MS = 1_000;
/** Distinct route-and-status keys counted in one window; the rest count as `other`. */
const MAX_KEYS = 16;
const OTHER_KEY = "other";

/**
 * Logs unauthenticated and refused requests, one line per window at most.
 *
 * @example
 * ```ts
 * const refusals = new RefusalLog({ log: console });
 * refusals.record("secret 403", () => "GET /v1/db 403"); // logged at once
 * refusals.record("secret 403", () => "GET /v1/db 403"); // counted
 * refusals.flush(); // "Not logged one by one: 1 request in the last 1000 ms (secret 403 x1)"
 * ```
 */
export class RefusalLog {
  readonly #log: { info(message: string): void };
  readonly #windowMs: number;
  readonly #scheduler: Scheduler;
  readonly #counts = new Map<string, number>();
  #total = 0;
  /** Pending while a window is open; undefined when quiet. */
  #timer: TimerHandle | undefined;

  constructor(options: RefusalLogOptions) {
    this.#log = options.log;
    this.#windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.#scheduler = options.scheduler ?? SYSTEM_SCHEDULER;
  }

  /**
   * Logs `line()` at once when no window is open (and opens one); otherwise
   * counts the request under `key` (its route and status) without building
   * its line.
   */
  record(key: string, line: () => string): void {
    if (this.#timer === undefined) {
      this.#log.info(line());
      this.#startWindow();
      return;
    }
    const counted = this.#counts.has(key) || this.#counts.size < MAX_KEYS
      ? key
      : OTHER_KEY;
    this.#counts.set(counted, (this.#counts.get(counted) ?? 0) + 1);
    this.#total++;
  }

  /** Writes the open window's summary now, if it counted any, and goes quiet. */
  flush(): void {
    if (this.#timer !== undefined) {
      this.#scheduler.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    this.#writeSummary();
  }

  #startWindow(): void {
    this.#timer = this.#scheduler.setTimer(
      () => this.#endWindow(),
      this.#windowMs,
    );
  }

  #endWindow(): void {
    this.#timer = undefined;
    // A window that counted nothing ends the summaries: the next request
    // is logged on its own again.
    if (this.#writeSummary()) this.#startWindow();
  }

  /** Whether there was anything to write. */
  #writeSummary(): boolean {
    if (this.#total === 0) return false;
    const counts = [...this.#counts].map(([key, count]) => `${key} x${count}`)
      .join(", ");
    this.#log.info(
      `Not logged one by one: ${this.#total} ${
        this.#total === 1 ? "request" : "requests"
      } in the last ${this.#windowMs} ms (${counts})`,
    );
    this.#counts.clear();
    this.#total = 0;
    return true;
  }
}
