import assert from "node:assert/strict";
import { LineBatch, type LineBatchOptions } from "../../src/log/line_batch.ts";

const decoder = new TextDecoder();

function batch(options: Partial<LineBatchOptions> = {}) {
  const writes: { text: string; lines: number }[] = [];
  const lines = new LineBatch({
    // Decoded at once: the bytes are only valid during the call.
    write: (bytes, count) =>
      writes.push({ text: decoder.decode(bytes), lines: count }),
    delayMs: 0,
    maxChunkBytes: 1_000,
    ...options,
  });
  return { lines, writes };
}

function afterDelay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("lines wait for the delay, then go out in one write, in order", async () => {
  const { lines, writes } = batch();
  lines.add("", "a");
  lines.add("", "b");
  assert.deepEqual(writes, []);
  await afterDelay();
  assert.deepEqual(writes, [{ text: "a\nb\n", lines: 2 }]);
  lines.add("", "c");
  await afterDelay();
  assert.deepEqual(writes.at(-1), { text: "c\n", lines: 1 });
});

Deno.test("a full buffer is written before the line that does not fit, so no write passes maxChunkBytes", () => {
  const { lines, writes } = batch({ maxChunkBytes: 8, delayMs: 60_000 });
  for (const line of ["ab", "cd", "ef"]) lines.add("", line);
  lines.flush();
  assert.deepEqual(writes, [
    { text: "ab\ncd\n", lines: 2 },
    { text: "ef\n", lines: 1 },
  ]);
  assert.ok(writes.every(({ text }) => text.length <= 8));
});

Deno.test("a prefix and a line are written together; a repeated one is encoded once and still written right", () => {
  const { lines, writes } = batch({ maxChunkBytes: 64, delayMs: 60_000 });
  lines.add("t1 ", "INFO same");
  lines.add("t1 ", "INFO same");
  lines.add("t2 ", "INFO same");
  lines.add("t2 ", "WARN other \u00e9");
  lines.flush();
  assert.deepEqual(writes, [{
    text: "t1 INFO same\nt1 INFO same\nt2 INFO same\nt2 WARN other \u00e9\n",
    lines: 4,
  }]);
});

Deno.test("a line longer than the buffer is written on its own, after the lines before it", () => {
  const { lines, writes } = batch({ maxChunkBytes: 12, delayMs: 60_000 });
  lines.add("", "a");
  lines.add("", "a line longer than twelve bytes");
  lines.add("", "b");
  lines.flush();
  assert.deepEqual(writes, [
    { text: "a\n", lines: 1 },
    { text: "a line longer than twelve bytes\n", lines: 1 },
    { text: "b\n", lines: 1 },
  ]);
});

Deno.test("multi-byte text is encoded as UTF-8, also at the edge of the buffer", () => {
  const { lines, writes } = batch({ maxChunkBytes: 8, delayMs: 60_000 });
  for (const line of ["é", "€€", "𝄞"]) lines.add("", line);
  lines.flush();
  assert.equal(writes.map(({ text }) => text).join(""), "é\n€€\n𝄞\n");
  assert.equal(writes.reduce((sum, { lines }) => sum + lines, 0), 3);
});

Deno.test("flush with nothing pending writes nothing, and cancels the timer", async () => {
  const { lines, writes } = batch({ delayMs: 60_000 });
  lines.flush();
  lines.add("", "a");
  lines.flush();
  lines.flush();
  await afterDelay();
  assert.deepEqual(writes, [{ text: "a\n", lines: 1 }]);
});
