import assert from "node:assert/strict";
import { LineBatch, type LineBatchOptions } from "../src/line_batch.ts";

function batch(options: Partial<LineBatchOptions> = {}) {
  const writes: { text: string; lines: number }[] = [];
  const lines = new LineBatch({
    write: (text, count) => writes.push({ text, lines: count }),
    delayMs: 0,
    flushChars: 1_000,
    chunkChars: 1_000,
    ...options,
  });
  return { lines, writes };
}

function afterDelay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("lines wait for the delay, then go out in one write, in order", async () => {
  const { lines, writes } = batch();
  lines.add("a");
  lines.add("b");
  assert.deepEqual(writes, []);
  await afterDelay();
  assert.deepEqual(writes, [{ text: "a\nb\n", lines: 2 }]);
  lines.add("c");
  await afterDelay();
  assert.deepEqual(writes.at(-1), { text: "c\n", lines: 1 });
});

Deno.test("a batch reaching flushChars is written at once", () => {
  const { lines, writes } = batch({ flushChars: 6, delayMs: 60_000 });
  lines.add("ab");
  lines.add("cd");
  assert.deepEqual(writes, [{ text: "ab\ncd\n", lines: 2 }]);
  lines.add("e");
  lines.flush();
  assert.deepEqual(writes.at(-1), { text: "e\n", lines: 1 });
});

Deno.test("chunks are cut at chunkChars between lines; a longer line is a chunk of its own", () => {
  const { lines, writes } = batch({ chunkChars: 6, delayMs: 60_000 });
  for (const line of ["ab", "cd", "ef", "long line", "g"]) lines.add(line);
  lines.flush();
  assert.deepEqual(writes, [
    { text: "ab\ncd\n", lines: 2 },
    { text: "ef\n", lines: 1 },
    { text: "long line\n", lines: 1 },
    { text: "g\n", lines: 1 },
  ]);
});

Deno.test("flush with nothing pending writes nothing, and cancels the timer", async () => {
  const { lines, writes } = batch({ delayMs: 60_000 });
  lines.flush();
  lines.add("a");
  lines.flush();
  lines.flush();
  await afterDelay();
  assert.deepEqual(writes, [{ text: "a\n", lines: 1 }]);
});
