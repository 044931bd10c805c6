/**
 * The audit log's write budget, so that a flood of answers cannot rotate the
 * audit archives away.
 *
 * Requests the agent refuses (400, 403, 404, 405, 429) never reach the audit
 * log, and its file rotates on its own size and archive count, so the main
 * log's floods do not touch it. What is left is a token holder asking for
 * answers as fast as it can: every distinct answer is a line, and 50 MiB of
 * lines (five 10 MiB archives) would push out the line that recorded the
 * read it wants hidden. So:
 *
 * - The same answer again within a window (a client polling one secret) is
 *   counted, not written: at the window's end one line repeats the record
 *   with `"repeats": <n>`. Nothing is lost but the exact times.
 * - New lines spend a byte budget, a bucket of `burstBytes` refilled at
 *   `bytesPerSecond` (1 MiB and 16 KiB/s by default: a warm-up of thousands
 *   of secrets fits in the burst, a steady hundred distinct answers a second
 *   in the rate). Beyond it, answers are counted by status, and one
 *   `{"kind":"summary","answers":<n>,"statuses":{...}}` line per window says
 *   how many went unwritten.
 *
 * So the audit log grows by at most `burstBytes`, then `bytesPerSecond` plus
 * one summary line a second, however hard it is flooded: with the defaults,
 * pushing the oldest of five 10 MiB archives out takes a flood of 50 minutes
 * or more, and every second of it leaves a summary line.
 *
 * @module
 */

import {
  type Scheduler,
  SYSTEM_SCHEDULER,
  type TimerHandle,
} from "../cache/refresh_ahead.ts";

/** Options of {@linkcode AuditBudget}. */
export interface AuditBudgetOptions {
  /** Writes one audit line (a JSON object). */
  readonly write: (line: string) => void;
  /** Bytes that may be written at once after a quiet time. Default 1 MiB. */
  readonly burstBytes?: number;
  /** Bytes a second written in the long run. Default 16 KiB. */
  readonly bytesPerSecond?: number;
  /** How long repeats are counted before their line is written. Default 1000 ms. */
  readonly windowMs?: number;
  /** Clock in milliseconds. Default `performance.now`. */
  readonly nowMs?: () => number;
  /** Timers; default the platform's, unref'd. */
  readonly scheduler?: Scheduler;
}

/** Default burst of the audit log's byte budget. */
export const DEFAULT_AUDIT_BURST_BYTES = 1024 * 1024;
/** Default long-run rate of the audit log's byte budget. */
export const DEFAULT_AUDIT_BYTES_PER_SECOND = 16 * 1024;
/** Default length of an audit window. */
export const DEFAULT_AUDIT_WINDOW_MS = 1000;
/** Distinct statuses counted in a summary; the rest count as `other`. */
const MAX_SUMMARY_STATUSES = 16;

/** Writes audit lines within a byte budget, counting repeats and what does not fit. */
export class AuditBudget {
  readonly #write: (line: string) => void;
  readonly #burstBytes: number;
  readonly #bytesPerMs: number;
  readonly #windowMs: number;
  readonly #nowMs: () => number;
  readonly #scheduler: Scheduler;
  #availableBytes: number;
  #refilledAtMs: number;
  /** Lines written in this window, and how many times each came again since. */
  #written = new Map<string, number>();
  /** Answers not written in this window, by status. */
  #unwritten = new Map<string, number>();
  #unwrittenCount = 0;
  #timer: TimerHandle | undefined;

  /** A budget starting full. */
  constructor(options: AuditBudgetOptions) {
    this.#write = options.write;
    this.#burstBytes = options.burstBytes ?? DEFAULT_AUDIT_BURST_BYTES;
    this.#bytesPerMs = (options.bytesPerSecond ??
      DEFAULT_AUDIT_BYTES_PER_SECOND) / 1000;
    this.#windowMs = options.windowMs ?? DEFAULT_AUDIT_WINDOW_MS;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#scheduler = options.scheduler ?? SYSTEM_SCHEDULER;
    this.#availableBytes = this.#burstBytes;
    this.#refilledAtMs = this.#nowMs();
  }

  /** One answer's audit line (a JSON object) and its HTTP status. */
  add(line: string, status: number): void {
    const repeats = this.#written.get(line);
    if (repeats !== undefined) {
      this.#written.set(line, repeats + 1);
    } else if (this.#spend(utf8Length(line))) {
      this.#write(line);
      this.#written.set(line, 0);
    } else {
      const key = this.#unwritten.has(String(status)) ||
          this.#unwritten.size < MAX_SUMMARY_STATUSES
        ? String(status)
        : "other";
      this.#unwritten.set(key, (this.#unwritten.get(key) ?? 0) + 1);
      this.#unwrittenCount++;
    }
    this.#timer ??= this.#scheduler.setTimer(
      () => this.flush(),
      this.#windowMs,
    );
  }

  /** Ends the window now: writes the repeat counts and the summary. */
  flush(): void {
    if (this.#timer !== undefined) this.#scheduler.clearTimer(this.#timer);
    this.#timer = undefined;
    const written = this.#written;
    this.#written = new Map();
    for (const [line, repeats] of written) {
      if (repeats === 0) continue;
      const repeated = `${line.slice(0, -1)},"repeats":${repeats}}`;
      // Repeat lines always go out (at most one per line written), and may
      // overdraw the budget: the next window then writes less.
      this.#spend(utf8Length(repeated), { mayOverdraw: true });
      this.#write(repeated);
    }
    if (this.#unwrittenCount > 0) {
      this.#write(JSON.stringify({
        kind: "summary",
        answers: this.#unwrittenCount,
        statuses: Object.fromEntries(this.#unwritten),
      }));
      this.#unwritten = new Map();
      this.#unwrittenCount = 0;
    }
  }

  #spend(bytes: number, { mayOverdraw = false } = {}): boolean {
    const nowMs = this.#nowMs();
    const elapsedMs = Math.max(0, nowMs - this.#refilledAtMs);
    this.#refilledAtMs = nowMs;
    this.#availableBytes = Math.min(
      this.#burstBytes,
      this.#availableBytes + elapsedMs * this.#bytesPerMs,
    );
    if (!mayOverdraw && this.#availableBytes < bytes) return false;
    this.#availableBytes -= bytes;
    return true;
  }
}

/** The length of `text` in UTF-8, without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair is 2 units and 4 bytes: 1 more byte per unit.
    if (code >= 0x80) {
      bytes += code < 0x800 || (code & 0xf800) === 0xd800 ? 1 : 2;
    }
  }
  return bytes;
}
