/**
 * A bounded memo for pure functions of a string: applications ask for the
 * same few URLs over and over, so their parsing is done once. At most
 * `capacity` results are kept (the memo starts afresh when full, so a client
 * sending endless distinct URLs costs a re-parse, never memory), and inputs
 * longer than `maxKeyLength` are computed every time.
 *
 * @module
 */

/** `compute`, remembered for inputs seen before. */
export function memoize<T>(
  compute: (input: string) => T,
  options: { readonly capacity: number; readonly maxKeyLength: number },
): (input: string) => T {
  const results = new Map<string, T>();
  return (input) => {
    const known = results.get(input);
    if (known !== undefined || results.has(input)) return known as T;
    const result = compute(input);
    if (input.length <= options.maxKeyLength) {
      if (results.size >= options.capacity) results.clear();
      results.set(input, result);
    }
    return result;
  };
}
