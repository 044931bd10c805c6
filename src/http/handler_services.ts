/**
 * What the HTTP handler needs of the services it is given: the caches, the
 * logger, the audit log and the metrics. `handler.ts` re-exports these.
 *
 * @module
 */

import type { CacheOutcome } from "../cache/cache_stats.ts";

/** A cache's answer: the body, the version it holds, how it was produced. */
export interface LookupAnswer {
  readonly body: string;
  readonly versionId: string;
  readonly outcome: CacheOutcome;
}

/** What the handler needs of a cache (`SecretCache` has it). */
export interface LookupService<L> {
  /** Resolves to the answer; rejects with `UpstreamError`. */
  get(lookup: L): Promise<LookupAnswer>;
  /** An answer it can give at once (a fresh cache hit), else `undefined`. */
  peek?(lookup: L): LookupAnswer | undefined;
}

/** What the handler needs of the logger. */
export interface RequestLog {
  info(message: string): void;
  error(message: string): void;
}

/** One served (or refused by AWS) secret or parameter, for the audit log. */
export interface AuditEvent {
  readonly kind: "secret" | "parameter";
  /** The secret id or parameter name as asked. */
  readonly id: string;
  readonly roleArn?: string;
  readonly status: number;
  /** Undefined when no value was served. */
  readonly versionId?: string;
  /** The cache outcome (`hit`, `miss`, ...), or `error`. */
  readonly outcome: CacheOutcome | "error";
}

/** Where the handler counts requests, and what renders `/metrics`. */
export interface RequestMetrics {
  recordRequest(route: RouteLabel, status: number): void;
  /** The Prometheus text; `inFlight` is the lookups waiting on the cache's fetch now. */
  render(inFlight: number): string;
  readonly contentType: string;
}

/** The route a request counts under: never a secret id. */
export type RouteLabel = "ping" | "secret" | "parameter" | "metrics" | "other";
