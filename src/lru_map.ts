/**
 * A bounded map that evicts its least recently used entry, built on `Map`'s
 * insertion order: a touch is a delete plus a set, so every operation is O(1).
 *
 * @module
 */

/**
 * A map holding at most `capacity` entries; reading with `get` or writing with
 * `set` makes an entry the most recently used, and a `set` beyond the bound
 * evicts the least recently used ones.
 *
 * @example
 * ```ts
 * const lru = new LruMap<string, number>(2);
 * lru.set("a", 1);
 * lru.set("b", 2);
 * lru.get("a"); // "a" is now the most recently used
 * lru.set("c", 3); // evicts "b"
 * ```
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;

  /** Creates an empty map; `capacity` must be a non-negative safe integer. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(
        `LRU capacity must be a non-negative integer, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
  }

  /** The most entries the map ever holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many entries the map holds now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `key` is present; does not change the order. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value for `key` without making it the most recently used. */
  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** The value for `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined;
    const value = this.#entries.get(key) as V;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /**
   * Stores `value` as the most recently used entry and evicts the least
   * recently used ones beyond the capacity; returns how many were evicted.
   */
  set(key: K, value: V): number {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    let evicted = 0;
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as K;
      this.#entries.delete(oldest);
      evicted++;
    }
    return evicted;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }

  /** The keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }
}
