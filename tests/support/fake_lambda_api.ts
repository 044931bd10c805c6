/**
 * A local stand-in for the AWS Lambda Extensions API (register, event/next,
 * exit/error), so the extension script can be run outside Lambda.
 *
 * @module
 */

/** The identifier the fake hands out on registration. */
export const EXTENSION_IDENTIFIER = "fake-extension-id-0001";

/** A registration the fake received. */
export interface Registration {
  /** The `Lambda-Extension-Name` header, or null when missing. */
  readonly name: string | null;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  readonly body: unknown;
}

/** An `/extension/exit/error` report the fake received. */
export interface ExitErrorReport {
  /** The `Lambda-Extension-Function-Error-Type` header. */
  readonly errorType: string | null;
  /** The raw request body. */
  readonly body: string;
}

/** An event as the Extensions API delivers it from `event/next`. */
export type LambdaEvent =
  | {
    readonly eventType: "INVOKE";
    readonly requestId: string;
    readonly deadlineMs: number;
    readonly invokedFunctionArn: string;
  }
  | {
    readonly eventType: "SHUTDOWN";
    readonly shutdownReason: string;
    readonly deadlineMs: number;
  };

/** Builds an INVOKE event for `requestId`. */
export function invokeEvent(requestId: string): LambdaEvent {
  return {
    eventType: "INVOKE",
    requestId,
    deadlineMs: 0,
    invokedFunctionArn:
      "arn:aws:lambda:us-east-1:123456789012:function:example",
  };
}

/** Builds a SHUTDOWN event. */
export function shutdownEvent(): LambdaEvent {
  return { eventType: "SHUTDOWN", shutdownReason: "spindown", deadlineMs: 0 };
}

/** The running fake: what it received, and the event queue the test feeds. */
export class FakeLambdaApi {
  #server: Deno.HttpServer<Deno.NetAddr>;
  #events: LambdaEvent[] = [];
  #waiting: {
    signal: AbortSignal;
    event: PromiseWithResolvers<LambdaEvent | null>;
  }[] = [];
  #nextWatchers: { count: number; done: PromiseWithResolvers<void> }[] = [];
  #registrations: Registration[] = [];
  #exitErrors: ExitErrorReport[] = [];
  #nextRequests = 0;

  constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
  }

  /** `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    return `127.0.0.1:${this.#server.addr.port}`;
  }

  /** Registrations received so far. */
  get registrations(): readonly Registration[] {
    return this.#registrations;
  }

  /** Exit error reports received so far. */
  get exitErrors(): readonly ExitErrorReport[] {
    return this.#exitErrors;
  }

  /** How many `event/next` requests arrived so far. */
  get nextRequestCount(): number {
    return this.#nextRequests;
  }

  /** Queues an event; a pending `event/next` request receives it at once. */
  pushEvent(event: LambdaEvent): void {
    // A client that went away no longer waits for events.
    this.#waiting = this.#waiting.filter((waiter) => !waiter.signal.aborted);
    const waiter = this.#waiting.shift();
    if (waiter) waiter.event.resolve(event);
    else this.#events.push(event);
  }

  /** Resolves when `event/next` has been requested `count` times in all. */
  nextRequested(count: number): Promise<void> {
    const watcher = { count, done: Promise.withResolvers<void>() };
    this.#nextWatchers.push(watcher);
    this.#notifyWatchers();
    return watcher.done.promise;
  }

  /** Answers pending `event/next` requests with 503 and stops the server. */
  async close(): Promise<void> {
    for (const waiter of this.#waiting.splice(0)) waiter.event.resolve(null);
    await this.#server.shutdown();
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const isKnown = request.headers.get("lambda-extension-identifier") ===
      EXTENSION_IDENTIFIER;
    if (
      request.method === "POST" &&
      url.pathname === "/2020-01-01/extension/register"
    ) {
      return this.#register(request);
    }
    if (
      request.method === "GET" &&
      url.pathname === "/2020-01-01/extension/event/next"
    ) {
      if (!isKnown) return forbidden();
      return await this.#next(request.signal);
    }
    if (
      request.method === "POST" &&
      url.pathname === "/2020-01-01/extension/exit/error"
    ) {
      if (!isKnown) return forbidden();
      this.#exitErrors.push({
        errorType: request.headers.get("lambda-extension-function-error-type"),
        body: await request.text(),
      });
      return Response.json({ status: "OK" }, { status: 202 });
    }
    return new Response("not found", { status: 404 });
  }

  async #register(request: Request): Promise<Response> {
    const text = await request.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Kept as text: the test reports what was sent.
    }
    const name = request.headers.get("lambda-extension-name");
    this.#registrations.push({ name, body });
    if (name === null || name === "") {
      return Response.json({ errorType: "Extension.InvalidName" }, {
        status: 400,
      });
    }
    return Response.json(
      { functionName: "example", functionVersion: "$LATEST", handler: "x" },
      { headers: { "Lambda-Extension-Identifier": EXTENSION_IDENTIFIER } },
    );
  }

  #notifyWatchers(): void {
    this.#nextWatchers = this.#nextWatchers.filter((watcher) => {
      if (watcher.count > this.#nextRequests) return true;
      watcher.done.resolve();
      return false;
    });
  }

  async #next(signal: AbortSignal): Promise<Response> {
    this.#nextRequests++;
    this.#notifyWatchers();
    const queued = this.#events.shift();
    if (queued) return Response.json(queued);
    const waiter = {
      signal,
      event: Promise.withResolvers<LambdaEvent | null>(),
    };
    this.#waiting.push(waiter);
    const event = await waiter.event.promise;
    if (event === null) return new Response("closed", { status: 503 });
    return Response.json(event);
  }
}

function forbidden(): Response {
  return Response.json({ errorType: "Extension.InvalidExtensionId" }, {
    status: 403,
  });
}
