/**
 * The Prometheus text exposition format (0.0.4) as pure functions: a
 * family's header, its sample lines, a histogram series. What is counted,
 * and how, is agent_metrics.ts's.
 *
 * @module
 */

/** The `Content-Type` of the text these functions build. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** One sample's labels as name and value pairs, in the order shown. */
export type Labels = readonly (readonly [name: string, value: string])[];

/** Go's float syntax as Prometheus parses it; integers never in exponent form. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  // `String` switches to exponent form at 1e21; BigInt spells every digit.
  if (Number.isInteger(value) && Math.abs(value) >= 1e21) {
    return BigInt(value).toString();
  }
  return String(value);
}

/** A family: its `# HELP` and `# TYPE` lines, then its samples' lines. */
export function family(
  name: string,
  help: string,
  type: "counter" | "gauge" | "histogram",
  lines: Iterable<string>,
): string {
  const text = help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  return `# HELP ${name} ${text}\n# TYPE ${name} ${type}\n` +
    [...lines].join("");
}

/** One sample line; label values escaped (backslash, quote, line feed). */
export function sampleLine(
  name: string,
  labels: Labels,
  value: number,
): string {
  const text = labels.map(([label, labelValue]) =>
    `${label}="${
      labelValue.replace(/[\\\n"]/g, (c) => c === "\n" ? "\\n" : `\\${c}`)
    }"`
  ).join(",");
  return `${name}${text === "" ? "" : `{${text}}`} ${formatNumber(value)}\n`;
}

/** Observations of one histogram series over fixed upper bounds. */
export interface HistogramSeries {
  /** Per bucket, not cumulative: one per bound, then the `+Inf` bucket. */
  readonly counts: number[];
  sum: number;
}

/** An empty series for `bounds`. */
export function emptyHistogram(bounds: readonly number[]): HistogramSeries {
  return { counts: new Array(bounds.length + 1).fill(0), sum: 0 };
}

/** Adds one observation to `series`; `bounds` ascending. */
export function observe(
  series: HistogramSeries,
  bounds: readonly number[],
  value: number,
): void {
  const index = bounds.findIndex((bound) => value <= bound);
  series.counts[index === -1 ? bounds.length : index]++;
  series.sum += value;
}

/** A series' lines: cumulative `_bucket` per bound and `+Inf`, `_sum`, `_count`. */
export function histogramLines(
  name: string,
  labels: Labels,
  bounds: readonly number[],
  series: HistogramSeries,
): string {
  let text = "";
  let count = 0;
  series.counts.forEach((inBucket, index) => {
    count += inBucket;
    const le = index < bounds.length ? formatNumber(bounds[index]) : "+Inf";
    text += sampleLine(`${name}_bucket`, [...labels, ["le", le]], count);
  });
  return text + sampleLine(`${name}_sum`, labels, series.sum) +
    sampleLine(`${name}_count`, labels, count);
}
