/**
 * Faults a test switches on at run time in the local Secrets Manager server,
 * and which calls they hit.
 *
 * @module
 */

/** A misbehaviour of the server for one call. */
export type Fault =
  /** Answer normally, after `ms` milliseconds. */
  | { readonly kind: "latency"; readonly ms: number }
  /** Answer with a service fault: 500 InternalServiceError or 503 ServiceUnavailable. */
  | { readonly kind: "status"; readonly status: 500 | 503 }
  /** Answer 400 ThrottlingException (STS: 400 Throttling). */
  | { readonly kind: "throttle" }
  /** Answer 400 AccessDeniedException (STS: 403 AccessDenied): a refusal nobody rides out. */
  | { readonly kind: "denied" }
  /** Close the connection without answering. */
  | { readonly kind: "reset" }
  /** Never answer, until the client gives up or the server closes. */
  | { readonly kind: "stall" }
  /**
   * Send a 200's headers, then one byte of JSON whitespace every
   * `intervalMs`, never finishing, until the client gives up or the server
   * closes: a body whose every chunk is on time and whose whole never is.
   */
  | { readonly kind: "drip"; readonly intervalMs: number }
  /**
   * Answer normally, with `bytes` of JSON whitespace ahead of the body
   * (still a valid answer), streamed as it is read; its length is declared
   * in `Content-Length` only when `declareLength` is set. Stops writing
   * when the client closes.
   */
  | {
    readonly kind: "huge";
    readonly bytes: number;
    readonly declareLength?: boolean;
  }
  /** Answer `status` (400 to 599) with an HTML page, as a proxy or load balancer would. */
  | { readonly kind: "html"; readonly status: number }
  /** Answer normally once `opened` settles: the test decides when, not a timer. */
  | { readonly kind: "gate"; readonly opened: Promise<void> };

/** Which calls a fault hits. */
export interface FaultScope {
  /** Only these operations (e.g. `GetSecretValue`); default all. */
  readonly operations?: readonly string[];
  /** Only the next `times` matching calls, then behave normally; default all. */
  readonly times?: number;
}

/** The current fault and its scope; {@link FaultSwitch.take} consumes it call by call. */
export class FaultSwitch {
  #fault: Fault | undefined;
  #operations: ReadonlySet<string> | undefined;
  #remaining = Infinity;

  /** Sets the fault (undefined = behave normally). */
  set(fault: Fault | undefined, scope: FaultScope = {}): void {
    if (fault !== undefined) checkFault(fault);
    const times = scope.times ?? Infinity;
    if (!(times >= 0) || (Number.isFinite(times) && !Number.isInteger(times))) {
      throw new RangeError(
        `Fault times must be a non-negative integer: ${times}`,
      );
    }
    this.#fault = fault;
    this.#operations = scope.operations && new Set(scope.operations);
    this.#remaining = times;
  }

  /** The fault for a call to `operation`, counting it against `times`. */
  take(operation: string): Fault | undefined {
    if (!this.#fault || this.#remaining <= 0) return undefined;
    if (this.#operations && !this.#operations.has(operation)) return undefined;
    this.#remaining -= 1;
    const fault = this.#fault;
    if (this.#remaining <= 0) this.#fault = undefined;
    return fault;
  }
}

/** Throws `RangeError` for a fault whose figures make no sense. */
function checkFault(fault: Fault): void {
  if (fault.kind === "latency" && !(fault.ms >= 0)) {
    throw new RangeError(`Latency must be a non-negative number: ${fault.ms}`);
  }
  if (fault.kind === "drip" && !(fault.intervalMs > 0)) {
    throw new RangeError(
      `Drip interval must be a positive number: ${fault.intervalMs}`,
    );
  }
  if (
    fault.kind === "huge" &&
    !(Number.isSafeInteger(fault.bytes) && fault.bytes >= 0)
  ) {
    throw new RangeError(
      `Huge body size must be a non-negative integer: ${fault.bytes}`,
    );
  }
  if (
    fault.kind === "html" &&
    !(Number.isInteger(fault.status) && fault.status >= 400 &&
      fault.status <= 599)
  ) {
    throw new RangeError(
      `HTML fault status must be from 400 to 599: ${fault.status}`,
    );
  }
}
