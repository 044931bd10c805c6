/**
 * A small seeded pseudo-random generator for property tests, so that a failing
 * run can be replayed: the seed is printed with every failure, and `FUZZ_SEED`
 * / `FUZZ_RUNS` override the seed and the number of iterations.
 *
 * @module
 */

/** Random choices drawn from one seed (mulberry32: 32-bit state, fast, good enough for tests). */
export class SeededRandom {
  #state: number;

  /** Starts the sequence at `seed` (any 32-bit unsigned integer). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in `[min, max]`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor((this.nextUint32() / 2 ** 32) * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextUint32() / 2 ** 32 < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** `count` random bytes. */
  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** A list of `min` to `max` items made by `make`. */
  list<T>(min: number, max: number, make: () => T): T[] {
    return Array.from({ length: this.int(min, max) }, make);
  }
}

/** The settings of one fuzz run: where the sequence starts and how long it is. */
export interface FuzzSettings {
  readonly seed: number;
  readonly runs: number;
}

/**
 * Reads `FUZZ_SEED` and `FUZZ_RUNS`, falling back to a fresh seed and
 * `defaultRuns`; without env permission the defaults are used.
 */
export function fuzzSettings(defaultRuns: number): FuzzSettings {
  const seedText = readEnv("FUZZ_SEED");
  const runsText = readEnv("FUZZ_RUNS");
  const seed = seedText !== undefined && /^\d+$/.test(seedText)
    ? Number(seedText) >>> 0
    : (Math.random() * 2 ** 32) >>> 0;
  const runs = runsText !== undefined && /^\d+$/.test(runsText)
    ? Number(runsText)
    : defaultRuns;
  return { seed, runs };
}

function readEnv(name: string): string | undefined {
  // Deno.permissions.querySync never prompts; a denied read falls back to defaults.
  if (
    Deno.permissions.querySync({ name: "env", variable: name }).state !==
      "granted"
  ) {
    return undefined;
  }
  return Deno.env.get(name);
}

/**
 * Runs `property` `runs` times, each with its own generator derived from the
 * seed; a failure is rethrown with the seed, the iteration and the input shown.
 */
export function forAll<T>(
  settings: FuzzSettings,
  generate: (random: SeededRandom) => T,
  property: (input: T) => void,
  show: (input: T) => string = (input) => JSON.stringify(input),
): void {
  const random = new SeededRandom(settings.seed);
  for (let run = 0; run < settings.runs; run++) {
    const input = generate(random);
    try {
      property(input);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `Property failed at run ${run} of ${settings.runs} (replay: FUZZ_SEED=${settings.seed} FUZZ_RUNS=${
          run + 1
        })\ninput: ${show(input)}\n${reason}`,
        { cause: error },
      );
    }
  }
}
