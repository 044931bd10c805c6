/**
 * Small `node:http` helpers for the local Secrets Manager server: reading a
 * bounded body, flattening headers, and an abortable wait.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";

/** The largest request body the server reads. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The whole body, or undefined when it passes the size limit. */
export async function readBody(
  req: IncomingMessage,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === "string"
      ? new TextEncoder().encode(chunk)
      : new Uint8Array(chunk);
    size += bytes.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(bytes);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Node's header object as lower-case names to single strings. */
export function flattenHeaders(
  headers: IncomingMessage["headers"],
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      flat[name] = Array.isArray(value) ? value.join(",") : value;
    }
  }
  return flat;
}

/** Waits `ms`, or less if `signal` aborts first. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
