/**
 * What `GET /metrics` shows: requests by route and status, requests in
 * flight, each cache's counters and levels (read from the cache at scrape
 * time), and calls to AWS by operation and outcome with their latency.
 * Labels name routes, caches, operations and AWS error codes, never a secret
 * id, a parameter name or a value.
 *
 * @module
 */

import type { CacheStats } from "../cache/cache_stats.ts";
import {
  emptyHistogram,
  family,
  histogramLines,
  type HistogramSeries,
  type Labels,
  observe,
  PROMETHEUS_CONTENT_TYPE,
  sampleLine,
} from "./exposition.ts";
import type { UpstreamCall } from "../aws/aws_calls.ts";
import type { RequestMetrics, RouteLabel } from "../http/handler_services.ts";

/** A cache whose counters are shown, by name (`secrets`, `parameters`). */
export interface ObservedCache {
  readonly name: string;
  stats(): CacheStats;
}

/** The request and upstream metrics, and their rendering. */
export interface AgentMetrics extends RequestMetrics {
  recordUpstream(call: UpstreamCall): void;
}

/** Latency buckets in seconds: from a fast regional call to a retried timeout. */
const UPSTREAM_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Cache counters shown, by their `event` label. */
const CACHE_EVENTS = [
  ["hit", "hits"],
  ["miss", "misses"],
  ["renewed", "renewals"],
  ["refetched", "refetches"],
  ["stale", "staleServes"],
  ["renewing", "renewingServes"],
  ["refresh", "refreshes"],
  ["uncached", "uncached"],
  ["error", "errors"],
  ["coalesced", "coalesced"],
  ["eviction", "evictions"],
  ["oversized", "oversized"],
  ["refresh_ahead", "refreshAheads"],
  ["refresh_ahead_failure", "refreshAheadFailures"],
  ["throttled_renewal", "throttledRenewals"],
] as const satisfies readonly (readonly [string, keyof CacheStats])[];

/**
 * The most label combinations a family keeps. Outcomes are AWS error codes,
 * which AWS (or whatever answers at its endpoint) chooses: later new
 * combinations add to one series whose labels are all "other".
 */
export const MAX_SERIES = 100;

/** A family's series by label values, in first-seen order, at most {@linkcode MAX_SERIES}. */
class SeriesTable<S> {
  readonly #names: readonly string[];
  readonly #create: () => S;
  readonly #series = new Map<string, { labels: Labels; state: S }>();

  constructor(names: readonly string[], create: () => S) {
    this.#names = names;
    this.#create = create;
  }

  /** The state of the series for `values` (one per label name), created on first sight. */
  get(values: readonly string[]): S {
    let key = JSON.stringify(values);
    let found = this.#series.get(key);
    if (found === undefined && this.#series.size >= MAX_SERIES) {
      values = this.#names.map(() => "other");
      key = JSON.stringify(values);
      found = this.#series.get(key);
    }
    if (found === undefined) {
      const labels = this.#names.map((name, i) => [name, values[i]] as const);
      found = { labels, state: this.#create() };
      this.#series.set(key, found);
    }
    return found.state;
  }

  entries(): Iterable<{ labels: Labels; state: S }> {
    return this.#series.values();
  }
}

/** The counters behind `/metrics`; `caches` are read at every scrape. */
export function createAgentMetrics(
  caches: () => readonly ObservedCache[],
): AgentMetrics {
  const requests = new SeriesTable(["route", "status"], () => ({ value: 0 }));
  const upstreamCalls = new SeriesTable(
    ["operation", "outcome"],
    () => ({ value: 0 }),
  );
  const upstreamSeconds = new SeriesTable<HistogramSeries>(
    ["operation"],
    () => emptyHistogram(UPSTREAM_BUCKETS),
  );
  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    recordRequest(route: RouteLabel, status: number) {
      requests.get([route, String(status)]).value++;
    },
    recordUpstream({ operation, outcome, seconds }) {
      upstreamCalls.get([operation, outcome]).value++;
      observe(upstreamSeconds.get([operation]), UPSTREAM_BUCKETS, seconds);
    },
    render(inFlight: number) {
      const snapshots = caches().map(({ name, stats }) => ({
        cache: [["cache", name]] as const,
        stats: stats(),
      }));
      const perCache = (name: string, value: (stats: CacheStats) => number) =>
        snapshots.map(({ cache, stats }) =>
          sampleLine(name, cache, value(stats))
        );
      const counts = (name: string, table: SeriesTable<{ value: number }>) =>
        [...table.entries()].map(({ labels, state }) =>
          sampleLine(name, labels, state.value)
        );
      const seconds = "secrets_agent_upstream_duration_seconds";
      return [
        family(
          "secrets_agent_requests_total",
          "HTTP requests answered, by route and status.",
          "counter",
          counts("secrets_agent_requests_total", requests),
        ),
        family(
          "secrets_agent_requests_in_flight",
          "Requests waiting on the cache or AWS right now.",
          "gauge",
          [sampleLine("secrets_agent_requests_in_flight", [], inFlight)],
        ),
        family(
          "secrets_agent_cache_events_total",
          "Cache events since start: hits, misses, renewals, stale serves, evictions, background renewals, ...",
          "counter",
          snapshots.flatMap(({ cache, stats }) =>
            CACHE_EVENTS.map(([event, field]) =>
              sampleLine(
                "secrets_agent_cache_events_total",
                [...cache, ["event", event]],
                stats[field],
              )
            )
          ),
        ),
        family(
          "secrets_agent_cache_entries",
          "Entries each cache holds.",
          "gauge",
          perCache("secrets_agent_cache_entries", (stats) => stats.entries),
        ),
        family(
          "secrets_agent_cache_bytes",
          "Bytes each cache holds (response bodies and keys, UTF-8).",
          "gauge",
          perCache("secrets_agent_cache_bytes", (stats) => stats.bytes),
        ),
        family(
          "secrets_agent_upstream_calls_total",
          "Calls to AWS, by operation and outcome (success, an AWS error code, timeout, connection, internal).",
          "counter",
          counts("secrets_agent_upstream_calls_total", upstreamCalls),
        ),
        family(
          seconds,
          "Latency of calls to AWS, SDK retries included, by operation.",
          "histogram",
          [...upstreamSeconds.entries()].map(({ labels, state }) =>
            histogramLines(seconds, labels, UPSTREAM_BUCKETS, state)
          ),
        ),
      ].join("");
    },
  };
}
