import assert from "node:assert/strict";
import { LruMap } from "../src/lru_map.ts";

function filled(capacity: number, keys: string[]): LruMap<string, number> {
  const lru = new LruMap<string, number>(capacity);
  keys.forEach((key, index) => lru.set(key, index));
  return lru;
}

Deno.test("set beyond the capacity evicts the least recently used entry", () => {
  const lru = filled(2, ["a", "b"]);
  assert.equal(lru.set("c", 2), 1);
  assert.deepEqual([...lru.keys()], ["b", "c"]);
  assert.equal(lru.size, 2);
  assert.equal(lru.has("a"), false);
});

Deno.test("get makes an entry the most recently used, so it survives eviction", () => {
  const lru = filled(3, ["a", "b", "c"]);
  assert.equal(lru.get("a"), 0);
  lru.set("d", 3);
  assert.deepEqual([...lru.keys()], ["c", "a", "d"]);
});

Deno.test("peek reads without changing the order", () => {
  const lru = filled(2, ["a", "b"]);
  assert.equal(lru.peek("a"), 0);
  lru.set("c", 2);
  assert.equal(lru.peek("a"), undefined);
  assert.deepEqual([...lru.keys()], ["b", "c"]);
});

Deno.test("setting an existing key replaces its value, moves it to the end, and evicts nothing", () => {
  const lru = filled(2, ["a", "b"]);
  assert.equal(lru.set("a", 10), 0);
  assert.deepEqual([...lru.keys()], ["b", "a"]);
  assert.equal(lru.get("a"), 10);
  assert.equal(lru.size, 2);
});

Deno.test("a stored undefined value is still an entry that get touches", () => {
  const lru = new LruMap<string, number | undefined>(2);
  lru.set("a", undefined);
  lru.set("b", 1);
  assert.equal(lru.get("a"), undefined);
  assert.deepEqual([...lru.keys()], ["b", "a"]);
});

Deno.test("delete and clear remove entries; get of a missing key is undefined", () => {
  const lru = filled(3, ["a", "b", "c"]);
  assert.equal(lru.delete("b"), true);
  assert.equal(lru.delete("b"), false);
  assert.equal(lru.get("b"), undefined);
  assert.deepEqual([...lru.keys()], ["a", "c"]);
  lru.clear();
  assert.equal(lru.size, 0);
});

Deno.test("capacity 0 holds nothing", () => {
  const lru = new LruMap<string, number>(0);
  assert.equal(lru.set("a", 1), 1);
  assert.equal(lru.size, 0);
  assert.equal(lru.capacity, 0);
});

Deno.test("the size never exceeds the capacity under churn", () => {
  const lru = new LruMap<number, number>(50);
  let evicted = 0;
  for (let i = 0; i < 10_000; i++) {
    evicted += lru.set(i, i);
    assert.ok(lru.size <= 50);
  }
  assert.equal(evicted, 9_950);
  assert.deepEqual([...lru.keys()].slice(0, 2), [9_950, 9_951]);
});

Deno.test("a capacity that is negative or not an integer is refused with a RangeError", () => {
  for (const capacity of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new LruMap(capacity), RangeError);
  }
});
