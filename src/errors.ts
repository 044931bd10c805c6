/**
 * Typed errors of the agent, and the one place where they become HTTP
 * responses.
 *
 * @module
 */

/** A failure talking to Secrets Manager (or STS), classified once at the edge. */
export type UpstreamFailure =
  | {
    /** Secrets Manager answered with an error: keep its status and code. */
    readonly kind: "service";
    readonly status: number;
    readonly code: string;
    readonly message: string;
  }
  | { readonly kind: "timeout" }
  | { readonly kind: "connection" }
  | { readonly kind: "internal"; readonly detail: string }
  | {
    /**
     * The agent's configuration refused its own credentials
     * (`credentials_file_temporary_only`); `reason` names no secret, so the
     * answer may carry it.
     */
    readonly kind: "credentials_refused";
    readonly reason: string;
  };

/** Error thrown by the Secrets Manager client, carrying its classification. */
export class UpstreamError extends Error {
  /** What went wrong, as the HTTP layer and the cache need to know it. */
  readonly failure: UpstreamFailure;

  /** Wraps a classified failure; `cause` keeps the original for debug logs. */
  constructor(failure: UpstreamFailure, options?: ErrorOptions) {
    super(describeFailure(failure), options);
    this.name = "UpstreamError";
    this.failure = failure;
  }
}

/**
 * `error` as an `UpstreamError`: itself, or an internal failure naming what
 * threw it (`where`), so code that expects only classified failures never
 * meets a raw one.
 */
export function asUpstreamError(error: unknown, where: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const name = error instanceof Error ? error.name : typeof error;
  return new UpstreamError(
    { kind: "internal", detail: `unexpected ${name} ${where}` },
    { cause: error },
  );
}

/** A request the agent refuses before it reaches the cache. */
export type RequestRejection =
  | { readonly kind: "too_many"; readonly status: 429; readonly body: string }
  | { readonly kind: "forwarded"; readonly status: 400; readonly body: string }
  | {
    readonly kind: "invalid_host";
    readonly status: 400;
    readonly body: string;
  }
  | { readonly kind: "bad_token"; readonly status: 403; readonly body: string }
  | {
    readonly kind: "not_allowed";
    readonly status: 405;
    readonly body: string;
  }
  | { readonly kind: "not_found"; readonly status: 404; readonly body: string }
  | {
    readonly kind: "bad_request";
    readonly status: 400;
    readonly body: string;
  };

/** Builds each rejection with the contract's exact status and text. */
export const rejection = {
  tooMany: (): RequestRejection => ({
    kind: "too_many",
    status: 429,
    body: "Connection limit exceeded",
  }),
  forwarded: (): RequestRejection => ({
    kind: "forwarded",
    status: 400,
    body: "Forwarded",
  }),
  invalidHost: (): RequestRejection => ({
    kind: "invalid_host",
    status: 400,
    body: "Invalid Host",
  }),
  badToken: (): RequestRejection => ({
    kind: "bad_token",
    status: 403,
    body: "Bad Token",
  }),
  notAllowed: (): RequestRejection => ({
    kind: "not_allowed",
    status: 405,
    body: "Not allowed",
  }),
  notFound: (): RequestRejection => ({
    kind: "not_found",
    status: 404,
    body: "Not found",
  }),
  badRequest: (message: string): RequestRejection => ({
    kind: "bad_request",
    status: 400,
    body: message,
  }),
} as const;

/** Whether a failure is worth riding out with a stale value (throttling is not). */
export function isTransient(failure: UpstreamFailure): boolean {
  switch (failure.kind) {
    case "timeout":
    case "connection":
      return true;
    case "service":
      return failure.status >= 500;
    case "internal":
    case "credentials_refused":
      return false;
  }
}

/**
 * Whether AWS asked the agent to slow down (throttling, 429): a failure of
 * the account's shared quota, which says nothing about the secret.
 */
export function isThrottling(failure: UpstreamFailure): boolean {
  return failure.kind === "service" &&
    (failure.status === 429 ||
      ["ThrottlingException", "Throttling", "TooManyRequestsException"]
        .includes(failure.code));
}

/** The JSON body the agent answers with for an upstream failure. */
export function upstreamBody(failure: UpstreamFailure): string {
  switch (failure.kind) {
    case "service":
      return JSON.stringify({ __type: failure.code, message: failure.message });
    case "timeout":
      return JSON.stringify({ __type: "TimeoutError", message: "Timeout" });
    case "connection":
      return JSON.stringify({
        __type: "ConnectionError",
        message: "Read Error",
      });
    case "internal":
      return JSON.stringify({ __type: "InternalFailure" });
    case "credentials_refused":
      return JSON.stringify({
        __type: "InternalFailure",
        message: failure.reason,
      });
  }
}

/** The HTTP status the agent answers with for an upstream failure. */
export function upstreamStatus(failure: UpstreamFailure): number {
  switch (failure.kind) {
    case "service":
      return failure.status;
    case "timeout":
      return 504;
    case "connection":
      return 502;
    case "internal":
    case "credentials_refused":
      return 500;
  }
}

/** One line naming the failure, for logs: codes and kinds, never values. */
export function describeFailure(failure: UpstreamFailure): string {
  switch (failure.kind) {
    case "service":
      return `${failure.code} (${failure.status})`;
    case "internal":
      return `internal failure: ${failure.detail}`;
    case "credentials_refused":
      return `credentials refused: ${failure.reason}`;
    default:
      return failure.kind;
  }
}
