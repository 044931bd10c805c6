/**
 * Log lines collected and written together: one `write(2)` per batch instead
 * of one per line, which at tens of thousands of requests a second is most
 * of what logging costs. A batch is written `delayMs` after its first line,
 * as soon as it holds `flushChars`, or on `flush()`; a process killed
 * outright (SIGKILL) loses at most the last `delayMs` of lines, a process
 * that stops normally loses none (the loggers flush on close).
 *
 * @module
 */

/** Options of {@linkcode LineBatch}. */
export interface LineBatchOptions {
  /** Receives a chunk of whole lines, each ending in `\n`, and how many. */
  readonly write: (text: string, lines: number) => void;
  /** How long the first line of a batch may wait. */
  readonly delayMs: number;
  /** A batch this long (UTF-16 units) is written at once. */
  readonly flushChars: number;
  /** Chunks passed to `write` are cut to this length, when lines allow. */
  readonly chunkChars: number;
}

/** Default wait of a batch's first line, in milliseconds. */
export const DEFAULT_BATCH_DELAY_MS = 10;
/** Default size at which a batch is written at once. */
export const DEFAULT_BATCH_FLUSH_CHARS = 64 * 1024;

/** Lines waiting to be written, in the order they were added. */
export class LineBatch {
  readonly #options: LineBatchOptions;
  #lines: string[] = [];
  #chars = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LineBatchOptions) {
    this.#options = options;
  }

  /** Queues `line` (without its newline). */
  add(line: string): void {
    this.#lines.push(line);
    this.#chars += line.length + 1;
    if (this.#chars >= this.#options.flushChars) {
      this.flush();
    } else if (this.#timer === undefined) {
      const timer = setTimeout(() => this.flush(), this.#options.delayMs);
      // Pending lines must not keep a finished process alive: close flushes.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes what is pending now, in chunks of at most `chunkChars` where lines allow. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#lines;
    if (lines.length === 0) return;
    this.#lines = [];
    this.#chars = 0;
    let chunk = "";
    let count = 0;
    for (const line of lines) {
      // Cut by UTF-16 length: a chunk of multi-byte text may pass the limit,
      // as one long line does.
      if (
        count > 0 && chunk.length + line.length + 1 > this.#options.chunkChars
      ) {
        this.#options.write(chunk, count);
        chunk = "";
        count = 0;
      }
      chunk += `${line}\n`;
      count++;
    }
    this.#options.write(chunk, count);
  }
}
