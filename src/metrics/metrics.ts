/**
 * A registry of counters, gauges and histograms rendered in the Prometheus
 * text exposition format (0.0.4) for `GET /metrics`. Pure: no I/O, no timers.
 *
 * @module
 */

/** The `Content-Type` of {@linkcode MetricsRegistry.render}'s text. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DEFAULT_MAX_SERIES = 100;
const OVERFLOW_VALUE = "other";

/** Options of {@linkcode Counter} and {@linkcode Histogram}. */
export interface SeriesOptions {
  /** The most label combinations kept; later new ones share one series whose values are all "other". Defaults to 100. */
  readonly maxSeries?: number;
}

/** What a labelled gauge's callback yields per series: its labels and value. */
export type GaugeSample<L extends string> = readonly [
  labels: Readonly<Record<L, string>>,
  value: number,
];

function checkNames(name: string, labelNames: readonly string[]): void {
  if (!METRIC_NAME.test(name)) {
    throw new TypeError(`Invalid metric name: ${JSON.stringify(name)}`);
  }
  for (const label of labelNames) {
    // Names starting with "__" are reserved for Prometheus itself.
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new TypeError(`Invalid label name: ${JSON.stringify(label)}`);
    }
  }
  if (new Set(labelNames).size !== labelNames.length) {
    throw new TypeError(`Duplicate label name in metric "${name}"`);
  }
}

function labelValue<L extends string>(
  labels: Readonly<Record<L, string>>,
  name: L,
): string {
  const value = labels[name];
  if (typeof value !== "string") {
    throw new TypeError(`Label "${name}" must be a string`);
  }
  return value;
}

function escapeLabelValue(value: string): string {
  return value.replace(/[\\\n"]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** `a="x",b="y"`, escaped as the format requires. */
function labelTextOf<L extends string>(
  labelNames: readonly L[],
  labels: Readonly<Record<L, string>>,
): string {
  return labelNames
    .map((name) => `${name}="${escapeLabelValue(labelValue(labels, name))}"`)
    .join(",");
}

/** Go's float syntax as Prometheus parses it; integers never in exponent form. */
function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  // `String` switches to exponent form at 1e21; BigInt spells every digit.
  if (Number.isInteger(value) && Math.abs(value) >= 1e21) {
    return BigInt(value).toString();
  }
  return String(value);
}

function header(name: string, help: string, type: string): string {
  const text = help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  return `# HELP ${name} ${text}\n# TYPE ${name} ${type}\n`;
}

function sample(name: string, labelText: string, value: number): string {
  const labels = labelText === "" ? "" : `{${labelText}}`;
  return `${name}${labels} ${formatNumber(value)}\n`;
}

/** One label combination's state, its label text escaped once at creation. */
interface Series<S> {
  readonly labelText: string;
  readonly state: S;
}

/** A family's series in first-seen order, bounded by folding overflow into "other". */
class SeriesSet<L extends string, S> {
  readonly #labelNames: readonly L[];
  readonly #create: () => S;
  readonly #maxSeries: number;
  readonly #series = new Map<string, Series<S>>();
  readonly #overflowLabels: Readonly<Record<L, string>>;
  readonly #overflowKey: string;

  constructor(
    labelNames: readonly L[],
    create: () => S,
    maxSeries = DEFAULT_MAX_SERIES,
  ) {
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new RangeError(
        `maxSeries must be a positive integer: ${maxSeries}`,
      );
    }
    this.#labelNames = labelNames;
    this.#create = create;
    this.#maxSeries = maxSeries;
    this.#overflowLabels = Object.fromEntries(
      labelNames.map((name) => [name, OVERFLOW_VALUE]),
    ) as Record<L, string>;
    this.#overflowKey = this.#keyOf(this.#overflowLabels);
    // Without labels there is exactly one series, shown (at zero) from the start.
    if (labelNames.length === 0) this.#add("", this.#overflowLabels);
  }

  /** The state of the series for `labels`, created on first sight. */
  get(labels: Readonly<Record<L, string>>): S {
    const key = this.#keyOf(labels);
    const found = this.#series.get(key);
    if (found !== undefined) return found.state;
    if (this.#series.size < this.#maxSeries) return this.#add(key, labels);
    return this.#series.get(this.#overflowKey)?.state ??
      this.#add(this.#overflowKey, this.#overflowLabels);
  }

  [Symbol.iterator](): IterableIterator<Series<S>> {
    return this.#series.values();
  }

  #keyOf(labels: Readonly<Record<L, string>>): string {
    let key = "";
    for (const name of this.#labelNames) {
      const value = labelValue(labels, name);
      // Length-prefixed, so no value can spell another combination's key.
      key += `${value.length}:${value}`;
    }
    return key;
  }

  #add(key: string, labels: Readonly<Record<L, string>>): S {
    const series = {
      labelText: labelTextOf(this.#labelNames, labels),
      state: this.#create(),
    };
    this.#series.set(key, series);
    return series.state;
  }
}

/** A monotonically increasing count; label names are fixed at creation, values given per sample. */
export class Counter<L extends string> {
  /** The metric name, as rendered. */
  readonly name: string;
  readonly #help: string;
  readonly #series: SeriesSet<L, { value: number }>;

  /** Validates the names; throws `TypeError` on an invalid one. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    options: SeriesOptions = {},
  ) {
    checkNames(name, labelNames);
    this.name = name;
    this.#help = help;
    this.#series = new SeriesSet(
      labelNames,
      () => ({ value: 0 }),
      options.maxSeries,
    );
  }

  /** Adds `by` (default 1, finite and non-negative, else `RangeError`) to the series for `labels`. */
  inc(labels: Readonly<Record<L, string>>, by = 1): void {
    if (!(by >= 0 && by !== Infinity)) {
      throw new RangeError(`Counter increment must be finite and >= 0: ${by}`);
    }
    this.#series.get(labels).value += by;
  }

  /** This family's exposition lines. */
  render(): string {
    let text = header(this.name, this.#help, "counter");
    for (const { labelText, state } of this.#series) {
      text += sample(this.name, labelText, state.value);
    }
    return text;
  }
}

/**
 * Values read from a callback at render time, so they are never stale: a
 * level (gauge), or totals another module keeps (counter).
 */
export class Gauge<L extends string> {
  /** The metric name, as rendered. */
  readonly name: string;
  readonly #help: string;
  readonly #labelNames: readonly L[];
  readonly #read: () => Iterable<GaugeSample<L>>;
  readonly #type: "gauge" | "counter";

  /** Validates the names; throws `TypeError` on an invalid one. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<GaugeSample<L>>,
    type: "gauge" | "counter" = "gauge",
  ) {
    checkNames(name, labelNames);
    this.name = name;
    this.#help = help;
    this.#labelNames = labelNames;
    this.#read = read;
    this.#type = type;
  }

  /** This family's exposition lines, one per sample the callback yields, in its order. */
  render(): string {
    let text = header(this.name, this.#help, this.#type);
    for (const [labels, value] of this.#read()) {
      text += sample(this.name, labelTextOf(this.#labelNames, labels), value);
    }
    return text;
  }
}

interface Buckets {
  /** Per bucket, not cumulative; the last one is `+Inf`. */
  readonly counts: number[];
  sum: number;
}

/** A distribution of durations in seconds over fixed, cumulative buckets. */
export class Histogram<L extends string> {
  /** The metric name; samples are `_bucket`, `_sum` and `_count` of it. */
  readonly name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  readonly #les: readonly string[];
  readonly #series: SeriesSet<L, Buckets>;

  /** Validates names (`TypeError`) and buckets (finite, distinct, else `RangeError`); sorts the buckets. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
    options: SeriesOptions = {},
  ) {
    checkNames(name, labelNames);
    if (labelNames.includes("le" as L)) {
      throw new TypeError(`Histogram "${name}" cannot have an "le" label`);
    }
    const bounds = [...buckets].sort((a, b) => a - b);
    if (bounds.some((b, i) => !Number.isFinite(b) || b === bounds[i - 1])) {
      throw new RangeError(`Buckets must be finite and distinct: ${buckets}`);
    }
    this.name = name;
    this.#help = help;
    this.#bounds = bounds;
    this.#les = [...bounds.map(formatNumber), "+Inf"];
    this.#series = new SeriesSet(
      labelNames,
      () => ({ counts: this.#les.map(() => 0), sum: 0 }),
      options.maxSeries,
    );
  }

  /** Records one duration (finite, else `RangeError`) in the series for `labels`. */
  observe(labels: Readonly<Record<L, string>>, seconds: number): void {
    if (!Number.isFinite(seconds)) {
      throw new RangeError(`Observed value must be finite: ${seconds}`);
    }
    const buckets = this.#series.get(labels);
    let index = 0;
    while (index < this.#bounds.length && seconds > this.#bounds[index]) {
      index++;
    }
    buckets.counts[index]++;
    buckets.sum += seconds;
  }

  /** This family's exposition lines: cumulative buckets, then sum and count, per series. */
  render(): string {
    let text = header(this.name, this.#help, "histogram");
    for (const { labelText, state } of this.#series) {
      const prefix = labelText === "" ? "" : `${labelText},`;
      let count = 0;
      this.#les.forEach((le, index) => {
        count += state.counts[index];
        text += sample(`${this.name}_bucket`, `${prefix}le="${le}"`, count);
      });
      text += sample(`${this.name}_sum`, labelText, state.sum);
      text += sample(`${this.name}_count`, labelText, count);
    }
    return text;
  }
}

/** What the registry needs of a family. */
interface Family {
  readonly name: string;
  render(): string;
}

/** The families behind `GET /metrics`, rendered in registration order. */
export class MetricsRegistry {
  readonly #families: Family[] = [];
  readonly #sampleNames = new Set<string>();

  /** Registers a counter; throws `TypeError` on an invalid or taken name. */
  counter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    options?: SeriesOptions,
  ): Counter<L> {
    return this.#add(new Counter(name, help, labelNames, options));
  }

  /** Registers a gauge read from `read` at render time, unlabelled or labelled. */
  gauge(name: string, help: string, read: () => number): Gauge<never>;
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<GaugeSample<L>>,
  ): Gauge<L>;
  gauge<L extends string>(
    name: string,
    help: string,
    ...args:
      | [read: () => number]
      | [labelNames: readonly L[], read: () => Iterable<GaugeSample<L>>]
  ): Gauge<L> | Gauge<never> {
    if (args.length === 1) {
      const [read] = args;
      return this.#add(new Gauge<never>(name, help, [], () => [[{}, read()]]));
    }
    return this.#add(new Gauge(name, help, ...args));
  }

  /** Registers a counter whose totals are kept elsewhere, read from `read` at render time. */
  counterFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<GaugeSample<L>>,
  ): Gauge<L> {
    return this.#add(new Gauge(name, help, labelNames, read, "counter"));
  }

  /** Registers a histogram; throws `TypeError` on invalid names, `RangeError` on invalid buckets. */
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
    options?: SeriesOptions,
  ): Histogram<L> {
    return this.#add(new Histogram(name, help, labelNames, buckets, options));
  }

  /** The whole exposition text, families in registration order, samples in first-seen order; ends with "\n" unless empty. */
  render(): string {
    return this.#families.map((family) => family.render()).join("");
  }

  #add<F extends Family>(family: F): F {
    const { name } = family;
    // A histogram's sample names must not collide with another family's.
    const names = family instanceof Histogram
      ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
      : [name];
    const taken = names.find((sampleName) => this.#sampleNames.has(sampleName));
    if (taken !== undefined) {
      throw new TypeError(`Metric name already registered: "${taken}"`);
    }
    for (const sampleName of names) this.#sampleNames.add(sampleName);
    this.#families.push(family);
    return family;
  }
}
