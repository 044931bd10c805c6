/**
 * The soak's traffic: concurrent closed-loop clients sending a weighted mix
 * of cache hits, misses over many ids, `refreshNow=true`, bad tokens and
 * unknown ids to the agent, and a tally of every answer by kind and status,
 * with each 200 checked against the {@linkcode SecretBook}.
 *
 * @module
 */

import { AGENT_TOKEN, TOKEN_HEADER } from "../support/agent_process.ts";
import { secretPath } from "../support/agent_upstream.ts";
import { type SecretBook, VALUE_MARK } from "./soak_secrets.ts";

/** What a request is meant to exercise. */
export type RequestKind =
  | "hit"
  | "miss"
  | "refreshNow"
  | "badToken"
  | "unknown";

/** Share of each kind in the mix, in percent. */
export const KIND_WEIGHTS: Readonly<Record<RequestKind, number>> = {
  hit: 50,
  miss: 20,
  refreshNow: 5,
  badToken: 10,
  unknown: 15,
};

/** A token of the right length that is not the agent's. */
export const BAD_TOKEN = "soak-wrong-token-0123456789abcd";

/** Options of {@linkcode driveTraffic}. */
export interface TrafficOptions {
  /** `http://127.0.0.1:<port>` */
  readonly agentUrl: string;
  /** Few secrets, asked for all the time (hits, refreshNow, bad tokens). */
  readonly hotIds: readonly string[];
  /** Many secrets, more than the cache holds (misses). */
  readonly missIds: readonly string[];
  readonly book: SecretBook;
  readonly clients: number;
  /** A client gives up on an answer after this long. */
  readonly requestTimeoutMs: number;
  /** Stops the clients (each finishes the request it has out). */
  readonly signal: AbortSignal;
  /** Upper bound on requests per client. */
  readonly maxRequestsPerClient: number;
}

/** Every answer of the run, by kind and status. */
export class Tally {
  /** kind -> status label (`200`, `400 ResourceNotFoundException`, `client timeout`...) -> count. */
  readonly statuses = new Map<RequestKind, Map<string, number>>();
  readonly mismatches = new Map<string, number>();
  /** Answers a kind must never get (a bad token not refused, an unknown id served...). */
  readonly unexpected = new Map<string, number>();
  /** Error bodies holding a secret value's mark. */
  leakyErrorBodies = 0;
  /** The first few mismatches and unexpected answers, for the report. */
  readonly examples: string[] = [];

  /** Answers that came back over HTTP. */
  served(): number {
    let total = 0;
    for (const labels of this.statuses.values()) {
      for (const [label, count] of labels) {
        if (!label.startsWith("client ")) total += count;
      }
    }
    return total;
  }

  /** Sum of a map's counts. */
  static total(counts: ReadonlyMap<string, number>): number {
    return [...counts.values()].reduce((sum, count) => sum + count, 0);
  }

  count(kind: RequestKind, label: string): void {
    const labels = this.statuses.get(kind) ?? new Map<string, number>();
    this.statuses.set(kind, labels);
    labels.set(label, (labels.get(label) ?? 0) + 1);
  }

  flag(
    into: Map<string, number>,
    reason: string,
    example: string,
  ): void {
    into.set(reason, (into.get(reason) ?? 0) + 1);
    if (this.examples.length < 10) this.examples.push(example);
  }
}

/** One planned request. */
interface Planned {
  readonly kind: RequestKind;
  readonly secretId: string;
  readonly path: string;
  readonly token: string;
}

/** Runs `clients` closed-loop clients until `signal` aborts; resolves to their tally. */
export async function driveTraffic(options: TrafficOptions): Promise<Tally> {
  const tally = new Tally();
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      for (let i = 0; i < options.maxRequestsPerClient; i++) {
        if (options.signal.aborted) return;
        await sendOne(plan(options), options, tally);
      }
    }),
  );
  return tally;
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

function pickKind(): RequestKind {
  let roll = Math.random() * 100;
  for (const [kind, weight] of Object.entries(KIND_WEIGHTS)) {
    roll -= weight;
    if (roll < 0) return kind as RequestKind;
  }
  return "hit";
}

function plan(options: TrafficOptions): Planned {
  const kind = pickKind();
  const hot = pick(options.hotIds);
  switch (kind) {
    case "hit": {
      // Half path style (percent-encoded id), half query style: one cache key.
      const path = Math.random() < 0.5
        ? `/v1/${encodeURIComponent(hot)}`
        : secretPath(hot);
      return { kind, secretId: hot, path, token: AGENT_TOKEN };
    }
    case "miss": {
      const id = pick(options.missIds);
      return { kind, secretId: id, path: secretPath(id), token: AGENT_TOKEN };
    }
    case "refreshNow":
      return {
        kind,
        secretId: hot,
        path: secretPath(hot, { refreshNow: "true" }),
        token: AGENT_TOKEN,
      };
    case "badToken":
      return { kind, secretId: hot, path: secretPath(hot), token: BAD_TOKEN };
    case "unknown": {
      const id = `soak/unknown/${crypto.randomUUID()}`;
      return { kind, secretId: id, path: secretPath(id), token: AGENT_TOKEN };
    }
  }
}

async function sendOne(
  planned: Planned,
  options: TrafficOptions,
  tally: Tally,
): Promise<void> {
  const isTracked = planned.kind !== "unknown";
  const snapshot = isTracked ? options.book.snapshot(planned.secretId) : 0;
  let status: number;
  let body: string;
  try {
    const response = await fetch(`${options.agentUrl}${planned.path}`, {
      headers: { [TOKEN_HEADER]: planned.token },
      signal: AbortSignal.timeout(options.requestTimeoutMs),
    });
    status = response.status;
    body = await response.text();
  } catch (error) {
    const name = error instanceof Error ? error.name : "Error";
    tally.count(
      planned.kind,
      name === "TimeoutError" ? "client timeout" : `client error ${name}`,
    );
    return;
  }
  if (status === 200) {
    tally.count(planned.kind, "200");
    if (planned.kind === "badToken") {
      tally.flag(tally.unexpected, "badToken: 200", `${planned.path}: served`);
    }
    const verdict = isTracked
      ? options.book.check(planned.secretId, snapshot, body)
      : "unknown id served";
    if (verdict !== "ok") {
      tally.flag(
        tally.mismatches,
        verdict,
        `${planned.kind} ${planned.path}: ${verdict}: ${body.slice(0, 300)}`,
      );
    }
    return;
  }
  const answer = errorAnswer(status, body);
  tally.count(planned.kind, answer.label);
  if (body.match(VALUE_MARK) !== null) tally.leakyErrorBodies++;
  const problem = unexpectedAnswer(planned.kind, answer);
  if (problem !== undefined) {
    tally.flag(
      tally.unexpected,
      `${planned.kind}: ${answer.label}`,
      `${planned.kind} ${planned.path}: ${problem}: ${body.slice(0, 300)}`,
    );
  }
}

/** A non-200 answer: its label, and whether it is a JSON error with `__type`. */
interface ErrorAnswer {
  readonly status: number;
  /** `403 Bad Token`, `400 ResourceNotFoundException`, `504 TimeoutError`... */
  readonly label: string;
  readonly isTyped: boolean;
}

function errorAnswer(status: number, body: string): ErrorAnswer {
  try {
    const type = JSON.parse(body)?.__type;
    if (typeof type === "string") {
      return { status, label: `${status} ${type}`, isTyped: true };
    }
  } catch {
    // A plain-text answer of the agent's own checks.
  }
  return {
    status,
    label: `${status} ${body.trim().slice(0, 40)}`,
    isTyped: false,
  };
}

/** Why a non-200 answer is one `kind` must never get, or undefined. */
function unexpectedAnswer(
  kind: RequestKind,
  answer: ErrorAnswer,
): string | undefined {
  // The connection limit comes before every other check.
  if (answer.status === 429) return undefined;
  if (kind === "badToken") {
    return answer.label === "403 Bad Token"
      ? undefined
      : "bad token not refused";
  }
  // Everything else reaches Secrets Manager: its errors are JSON with __type.
  return answer.isTyped ? undefined : "not an upstream error";
}
