/**
 * A bounded map that evicts its least recently used entry, built on `Map`'s
 * insertion order: a touch is a delete plus a set, so every operation is O(1).
 * Bounded by a number of entries and, optionally, by a total weight (bytes).
 *
 * @module
 */

/** Options of {@linkcode LruMap}. */
export interface LruMapOptions<K, V> {
  /** The most total weight held; defaults to no bound. */
  readonly maxWeight?: number;
  /** An entry's weight, a non-negative finite number; defaults to 0. */
  readonly weigh?: (value: V, key: K) => number;
  /** Called for each entry evicted to respect a bound (not for `delete`, `clear` or a replaced value). */
  readonly onEvict?: (key: K, value: V) => void;
}

interface Slot<V> {
  readonly value: V;
  readonly weight: number;
}

/**
 * A map holding at most `capacity` entries (and at most `maxWeight` in total);
 * reading with `get` or writing with `set` makes an entry the most recently
 * used, and a `set` beyond a bound evicts the least recently used ones.
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
  readonly #entries = new Map<K, Slot<V>>();
  readonly #capacity: number;
  readonly #maxWeight: number;
  readonly #weigh: ((value: V, key: K) => number) | undefined;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  #weight = 0;
  /** The most recently used key, while it is known: the last entry of `#entries`. */
  #newest: K | undefined;

  /** Creates an empty map; throws `RangeError`/`TypeError` on a bad capacity or options. */
  constructor(capacity: number, options: LruMapOptions<K, V> = {}) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(
        `LRU capacity must be a non-negative integer, got ${capacity}`,
      );
    }
    const { maxWeight = Number.POSITIVE_INFINITY, weigh, onEvict } = options;
    if (typeof maxWeight !== "number" || !(maxWeight >= 0)) {
      throw new RangeError(
        `LRU maxWeight must be a non-negative number, got ${maxWeight}`,
      );
    }
    if (weigh !== undefined && typeof weigh !== "function") {
      throw new TypeError("LRU option weigh must be a function");
    }
    if (onEvict !== undefined && typeof onEvict !== "function") {
      throw new TypeError("LRU option onEvict must be a function");
    }
    this.#capacity = capacity;
    this.#maxWeight = maxWeight;
    this.#weigh = weigh;
    this.#onEvict = onEvict;
  }

  /** The most entries the map ever holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The most total weight the map ever holds. */
  get maxWeight(): number {
    return this.#maxWeight;
  }

  /** How many entries the map holds now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The total weight of the entries held now. */
  get weight(): number {
    return this.#weight;
  }

  /** Whether `key` is present; does not change the order. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value for `key` without making it the most recently used. */
  peek(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** The value for `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined) return undefined;
    // A hot key read again and again is already last: moving it would only
    // leave the map's hash table deleted slots to compact.
    if (key !== this.#newest) {
      this.#entries.delete(key);
      this.#entries.set(key, slot);
      this.#newest = key;
    }
    return slot.value;
  }

  /**
   * Stores `value` as the most recently used entry and evicts the least
   * recently used ones beyond the bounds; returns how many were evicted. A
   * value heavier than `maxWeight` on its own is not stored, and the key's
   * old value is removed: the map never answers with a value older than the
   * last one set.
   */
  set(key: K, value: V): number {
    const weight = this.#weigh === undefined ? 0 : this.#weigh(value, key);
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new RangeError(
        `LRU weight must be a non-negative finite number, got ${weight}`,
      );
    }
    this.delete(key);
    if (weight > this.#maxWeight) return 0;
    this.#entries.set(key, { value, weight });
    this.#newest = key;
    this.#weight += weight;
    let evicted = 0;
    while (
      this.#entries.size > this.#capacity || this.#weight > this.#maxWeight
    ) {
      const [oldest, slot] = this.#entries.entries().next().value as [
        K,
        Slot<V>,
      ];
      this.#entries.delete(oldest);
      if (oldest === this.#newest) this.#newest = undefined;
      this.#weight -= slot.weight;
      evicted++;
      this.#onEvict?.(oldest, slot.value);
    }
    return evicted;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    const slot = this.#entries.get(key);
    if (slot === undefined) return false;
    this.#entries.delete(key);
    if (key === this.#newest) this.#newest = undefined;
    this.#weight -= slot.weight;
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#newest = undefined;
    this.#weight = 0;
  }

  /** The keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }
}
