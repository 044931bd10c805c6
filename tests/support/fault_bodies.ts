/**
 * The answers of the local Secrets Manager's body faults, written straight
 * to `node:http`'s response: a body that drips forever, a huge body streamed
 * as it is read, and a proxy's HTML error page.
 *
 * @module
 */

import type { ServerResponse } from "node:http";

const REASONS: Readonly<Record<number, string>> = {
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out",
};

/** The page an nginx in front of AWS shows for `status` (502: it cannot reach AWS). */
export function htmlErrorPage(status: number): string {
  const title = `${status} ${REASONS[status] ?? "Error"}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n` +
    `<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** Answers `status` with {@linkcode htmlErrorPage}. */
export function writeHtmlError(res: ServerResponse, status: number): void {
  const page = new TextEncoder().encode(htmlErrorPage(status));
  res.writeHead(status, {
    "content-type": "text/html",
    "content-length": String(page.byteLength),
  });
  res.end(page);
}

/**
 * Sends a 200's headers, then one space every `intervalMs` until the
 * connection closes or `signal` aborts; never ends the body.
 */
export function writeDrip(
  res: ServerResponse,
  intervalMs: number,
  signal: AbortSignal,
): void {
  res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
  res.flushHeaders();
  const timer = setInterval(() => {
    if (res.destroyed || signal.aborted) stop();
    else res.write(" ");
  }, intervalMs);
  const stop = () => clearInterval(timer);
  res.on("close", stop);
  signal.addEventListener("abort", stop, { once: true });
}

const PADDING_CHUNK = new Uint8Array(64 * 1024).fill(0x20);

/** Options of {@linkcode writeHuge}. */
export interface HugeBodyOptions {
  /** Bytes of whitespace ahead of `payload`. */
  readonly paddingBytes: number;
  /** Send `Content-Length` (else the body is chunked). */
  readonly declareLength: boolean;
  /** Stops writing when it aborts. */
  readonly signal: AbortSignal;
}

/**
 * Answers `status` with `paddingBytes` of spaces, then `payload` (JSON
 * allows leading whitespace, so the answer stays valid), written 64 KiB at
 * a time as the client reads; stops when the connection closes. Resolves
 * with the bytes written.
 */
export async function writeHuge(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  payload: Uint8Array,
  options: HugeBodyOptions,
): Promise<number> {
  const total = options.paddingBytes + payload.byteLength;
  const { "content-length": _, ...rest } = headers;
  res.writeHead(status, {
    ...rest,
    ...(options.declareLength ? { "content-length": String(total) } : {}),
  });
  let written = 0;
  const isOver = () => res.destroyed || options.signal.aborted;
  while (written < options.paddingBytes && !isOver()) {
    const size = Math.min(
      PADDING_CHUNK.byteLength,
      options.paddingBytes - written,
    );
    const isFull = !res.write(PADDING_CHUNK.subarray(0, size));
    written += size;
    if (isFull) await drained(res, options.signal);
  }
  if (isOver()) return written;
  res.end(payload);
  return written + payload.byteLength;
}

/** Until `res` can take more, or closes, or `signal` aborts. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
