import assert from "node:assert/strict";
import { memoize } from "../../src/cache/memo.ts";

function counted(capacity = 3, maxKeyLength = 10) {
  const calls: string[] = [];
  const length = memoize((input: string) => {
    calls.push(input);
    return input === "none" ? undefined : input.length;
  }, { capacity, maxKeyLength });
  return { length, calls };
}

Deno.test("a remembered input is not computed again, undefined results included", () => {
  const { length, calls } = counted();
  assert.equal(length("abc"), 3);
  assert.equal(length("abc"), 3);
  assert.equal(length("none"), undefined);
  assert.equal(length("none"), undefined);
  assert.deepEqual(calls, ["abc", "none"]);
});

Deno.test("a full memo starts afresh, so it never holds more than its capacity", () => {
  const { length, calls } = counted(2);
  for (const input of ["a", "b", "c", "a", "c"]) length(input);
  // "c" found "a" and "b" there and started afresh; "c" is remembered again.
  assert.deepEqual(calls, ["a", "b", "c", "a"]);
});

Deno.test("inputs longer than maxKeyLength are computed every time", () => {
  const { length, calls } = counted(3, 4);
  assert.equal(length("longer"), 6);
  assert.equal(length("longer"), 6);
  assert.deepEqual(calls, ["longer", "longer"]);
});
