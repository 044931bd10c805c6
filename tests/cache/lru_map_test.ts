import assert from "node:assert/strict";
import { LruMap } from "../../src/cache/lru_map.ts";

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

function weighed(
  maxWeight: number,
  evicted: string[] = [],
): LruMap<string, string> {
  return new LruMap<string, string>(100, {
    maxWeight,
    weigh: (value) => value.length,
    onEvict: (key) => evicted.push(key),
  });
}

Deno.test("the weight bound evicts least recently used entries until the total fits", () => {
  const evicted: string[] = [];
  const lru = weighed(10, evicted);
  lru.set("a", "xxxx");
  lru.set("b", "xxx");
  lru.set("c", "xx");
  assert.equal(lru.weight, 9);
  lru.get("a");
  assert.equal(lru.set("d", "xxxxx"), 2);
  assert.deepEqual(evicted, ["b", "c"]);
  assert.deepEqual([...lru.keys()], ["a", "d"]);
  assert.equal(lru.weight, 9);
});

Deno.test("a value heavier than the whole bound is not stored and removes the key's old value", () => {
  const evicted: string[] = [];
  const lru = weighed(10, evicted);
  lru.set("a", "xx");
  lru.set("b", "xx");
  assert.equal(lru.set("a", "x".repeat(11)), 0);
  assert.equal(lru.has("a"), false);
  assert.deepEqual([...lru.keys()], ["b"]);
  assert.equal(lru.weight, 2);
  assert.deepEqual(evicted, [], "a replaced value is not an eviction");
  assert.equal(lru.set("c", "x".repeat(10)), 1);
  assert.deepEqual(evicted, ["b"]);
});

Deno.test("the weight follows replace, delete and clear", () => {
  const lru = weighed(100);
  lru.set("a", "xxxx");
  lru.set("a", "xx");
  assert.equal(lru.weight, 2);
  lru.set("b", "xxx");
  lru.delete("a");
  assert.equal(lru.weight, 3);
  lru.clear();
  assert.equal(lru.weight, 0);
  assert.equal(lru.maxWeight, 100);
  assert.equal(new LruMap(1).maxWeight, Number.POSITIVE_INFINITY);
});

Deno.test("onEvict hears about count evictions too, but not delete or clear", () => {
  const evicted: [string, number][] = [];
  const lru = new LruMap<string, number>(2, {
    onEvict: (key, value) => evicted.push([key, value]),
  });
  lru.set("a", 1);
  lru.set("b", 2);
  lru.set("c", 3);
  lru.delete("b");
  lru.clear();
  assert.deepEqual(evicted, [["a", 1]]);
});

Deno.test("both bounds hold under churn of entries with random weights", () => {
  const lru = new LruMap<number, number>(40, {
    maxWeight: 1_000,
    weigh: (value) => value,
  });
  let seed = 3;
  for (let i = 0; i < 10_000; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    lru.set(i, seed % 200);
    assert.ok(lru.size <= 40);
    assert.ok(lru.weight <= 1_000);
    if (i % 500 === 0) {
      let total = 0;
      for (const key of lru.keys()) total += lru.peek(key)!;
      assert.equal(lru.weight, total);
    }
  }
});

Deno.test("bad weights and options are refused", () => {
  const lru = new LruMap<string, number>(5, { weigh: (value) => value });
  for (const weight of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => lru.set("a", weight), RangeError);
  }
  assert.equal(lru.size, 0);
  assert.throws(() => new LruMap(5, { maxWeight: -1 }), RangeError);
  assert.throws(() => new LruMap(5, { maxWeight: Number.NaN }), RangeError);
  assert.throws(
    () => new LruMap(5, { weigh: 3 as unknown as () => number }),
    TypeError,
  );
  assert.throws(
    () => new LruMap(5, { onEvict: "x" as unknown as () => void }),
    TypeError,
  );
});

Deno.test("reading the newest key again keeps the order exact after deletes, evictions and clear", () => {
  const map = new LruMap<string, number>(3);
  map.set("a", 1);
  map.set("b", 2);
  map.get("b");
  map.get("b");
  map.get("a");
  assert.deepEqual([...map.keys()], ["b", "a"]);
  map.delete("a");
  map.get("b");
  map.set("c", 3);
  map.set("d", 4);
  map.get("b");
  assert.deepEqual([...map.keys()], ["c", "d", "b"]);
  map.set("e", 5);
  assert.deepEqual([...map.keys()], ["d", "b", "e"]);
  map.clear();
  map.set("f", 6);
  map.set("g", 7);
  map.get("f");
  assert.deepEqual([...map.keys()], ["g", "f"]);
  const one = new LruMap<string, number>(1);
  one.set("x", 1);
  one.set("y", 2);
  one.get("y");
  one.set("z", 3);
  assert.deepEqual([...one.keys()], ["z"]);
});
