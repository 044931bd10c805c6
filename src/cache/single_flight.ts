/**
 * Request coalescing: at most one call in flight per key, shared by everyone
 * who asks while it runs, forgotten as soon as it settles.
 *
 * @module
 */

/** A call in flight: what kind of call it is, and its shared result. */
export interface Flight<T, Kind extends string> {
  readonly kind: Kind;
  readonly promise: Promise<T>;
}

/**
 * The calls in flight, one per key. A record is removed when its call settles,
 * whether it resolves or rejects, so the map holds only calls still running.
 *
 * @example
 * ```ts
 * const flights = new SingleFlight<string, "fetch">();
 * const first = flights.start("db", "fetch", () => Promise.resolve("value"));
 * flights.find("db")?.promise === first; // true until it settles
 * ```
 */
export class SingleFlight<T, Kind extends string> {
  readonly #flights = new Map<string, Flight<T, Kind>>();

  /** How many calls are in flight. */
  get size(): number {
    return this.#flights.size;
  }

  /** The call in flight for `key`, if any. */
  find(key: string): Flight<T, Kind> | undefined {
    return this.#flights.get(key);
  }

  /**
   * Runs `run` now as the call for `key`, replacing any record there (the
   * replaced call still settles for those already waiting on it), and returns
   * its shared result.
   */
  start(key: string, kind: Kind, run: () => Promise<T>): Promise<T> {
    let started: Promise<T>;
    try {
      started = run();
    } catch (error) {
      started = Promise.reject(error);
    }
    const flight: Flight<T, Kind> = {
      kind,
      promise: started.finally(() => {
        // A later start may have replaced this record: leave that one alone.
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      }),
    };
    this.#flights.set(key, flight);
    return flight.promise;
  }
}
