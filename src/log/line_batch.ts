/**
 * Log lines collected and written together: one `write(2)` per batch instead
 * of one per line, which at tens of thousands of requests a second is most
 * of what logging costs. Lines are copied into one reused buffer as they
 * come, so no line outlives its call as a string. A batch is written
 * `delayMs` after its first line, when the buffer is full, or on `flush()`;
 * a process killed outright (SIGKILL) loses at most the last `delayMs` of
 * lines, a process that stops normally loses none (the loggers flush on
 * close).
 *
 * @module
 */

/** Options of {@linkcode LineBatch}. */
export interface LineBatchOptions {
  /**
   * Receives whole lines, each ending in `\n`, and how many; the bytes are
   * only valid during the call (the buffer is reused).
   */
  readonly write: (bytes: Uint8Array, lines: number) => void;
  /** How long the first line of a batch may wait. */
  readonly delayMs: number;
  /** The buffer's size: no write is larger, unless one line alone is. */
  readonly maxChunkBytes: number;
}

/** Default wait of a batch's first line, in milliseconds. */
export const DEFAULT_BATCH_DELAY_MS = 10;
/** Default buffer size. */
export const DEFAULT_BATCH_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** Lines waiting to be written, in the order they were added. */
export class LineBatch {
  readonly #options: LineBatchOptions;
  readonly #buffer: Uint8Array;
  #used = 0;
  #lines = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // The bytes of the last prefix and of the last line: a line repeated (a
  // polled secret's request line) and a prefix repeated (its timestamp,
  // within a millisecond) are encoded once and copied.
  #prefix = "";
  #prefixBytes = new Uint8Array(0);
  #line = "";
  #lineBytes = encoder.encode("\n");

  constructor(options: LineBatchOptions) {
    this.#options = options;
    this.#buffer = new Uint8Array(options.maxChunkBytes);
  }

  /** Queues `prefix` and `line`, then a newline. */
  add(prefix: string, line: string): void {
    if (prefix !== this.#prefix) {
      this.#prefixBytes = encoder.encode(prefix);
      this.#prefix = prefix;
    }
    if (line !== this.#line) {
      this.#lineBytes = encoder.encode(`${line}\n`);
      this.#line = line;
    }
    const head = this.#prefixBytes;
    const tail = this.#lineBytes;
    const size = head.length + tail.length;
    if (size > this.#buffer.length - this.#used) {
      this.flush();
      if (size > this.#buffer.length) {
        const bytes = new Uint8Array(size);
        bytes.set(head);
        bytes.set(tail, head.length);
        this.#options.write(bytes, 1);
        return;
      }
    }
    this.#buffer.set(head, this.#used);
    this.#buffer.set(tail, this.#used + head.length);
    this.#used += size;
    this.#lines++;
    if (this.#timer === undefined) {
      const timer = setTimeout(() => this.flush(), this.#options.delayMs);
      // Pending lines must not keep a finished process alive: close flushes.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes what is pending now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines === 0) return;
    const bytes = this.#buffer.subarray(0, this.#used);
    const lines = this.#lines;
    this.#used = 0;
    this.#lines = 0;
    this.#options.write(bytes, lines);
  }
}
