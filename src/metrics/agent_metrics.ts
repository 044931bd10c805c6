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
  type GaugeSample,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./metrics.ts";
import type { UpstreamCall } from "../aws/secrets_client.ts";
import type { RequestMetrics, RouteLabel } from "../http/handler.ts";

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
] as const satisfies readonly (readonly [string, keyof CacheStats])[];

/** Builds the registry; `caches` are read at every scrape. */
export function createAgentMetrics(
  caches: () => readonly ObservedCache[],
): AgentMetrics {
  const registry = new MetricsRegistry();
  const requests = registry.counter(
    "secrets_agent_requests_total",
    "HTTP requests answered, by route and status.",
    ["route", "status"],
  );
  let inFlight = 0;
  registry.gauge(
    "secrets_agent_requests_in_flight",
    "Requests waiting on the cache or AWS right now.",
    () => inFlight,
  );
  registry.counterFrom(
    "secrets_agent_cache_events_total",
    "Cache events since start: hits, misses, renewals, stale serves, evictions, background renewals, ...",
    ["cache", "event"],
    () =>
      caches().flatMap(({ name, stats }) => {
        const snapshot = stats();
        return CACHE_EVENTS.map(([event, field]): GaugeSample<
          "cache" | "event"
        > => [{ cache: name, event }, snapshot[field]]);
      }),
  );
  registry.gauge(
    "secrets_agent_cache_entries",
    "Entries each cache holds.",
    ["cache"],
    () => caches().map(({ name, stats }) => [{ cache: name }, stats().entries]),
  );
  registry.gauge(
    "secrets_agent_cache_bytes",
    "Bytes each cache holds (response bodies and keys, UTF-8).",
    ["cache"],
    () => caches().map(({ name, stats }) => [{ cache: name }, stats().bytes]),
  );
  const upstreamCalls = registry.counter(
    "secrets_agent_upstream_calls_total",
    "Calls to AWS, by operation and outcome (success, an AWS error code, timeout, connection, internal).",
    ["operation", "outcome"],
  );
  const upstreamSeconds = registry.histogram(
    "secrets_agent_upstream_duration_seconds",
    "Latency of calls to AWS, SDK retries included, by operation.",
    ["operation"],
    UPSTREAM_BUCKETS,
  );
  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    recordRequest(route: RouteLabel, status: number) {
      requests.inc({ route, status: String(status) });
    },
    recordUpstream({ operation, outcome, seconds }) {
      upstreamCalls.inc({ operation, outcome });
      upstreamSeconds.observe({ operation }, seconds);
    },
    render(requestsInFlight: number) {
      inFlight = requestsInFlight;
      return registry.render();
    },
  };
}
