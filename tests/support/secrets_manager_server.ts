/**
 * A local AWS Secrets Manager on 127.0.0.1, with SSM Parameter Store's
 * GetParameter (AWS JSON 1.1, `AmazonSSM.*`) and STS's GetCallerIdentity and
 * AssumeRole (awsQuery), that speaks the real wire protocols, checks SigV4
 * signatures (long-term keys, and AssumeRole's temporary credentials until
 * they expire), records calls and injects faults, so the agent runs against
 * it through the AWS SDK unchanged: point `AWS_ENDPOINT_URL_SECRETS_MANAGER`,
 * `AWS_ENDPOINT_URL_SSM` and `AWS_ENDPOINT_URL_STS` at its URL.
 *
 * Built on `node:http` because a fault must be able to drop a connection
 * without answering, which `Deno.serve` handlers cannot do.
 *
 * @module
 */

import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import {
  delay,
  flattenHeaders,
  MAX_BODY_BYTES,
  readBody,
} from "./node_http_io.ts";
import {
  type CallIdentity,
  faultResponse,
  identifyCall,
  routeAwsCall,
} from "./aws_router.ts";
import { type Fault, type FaultScope, FaultSwitch } from "./fault_injection.ts";
import { writeDrip, writeHtmlError, writeHuge } from "./fault_bodies.ts";
import { ParameterStore, type ParameterType } from "./parameter_store.ts";
import { RoleSessions } from "./role_sessions.ts";
import { SecretsStore } from "./secrets_store.ts";
import type { ErrorMessageKey } from "./service_error.ts";
import {
  type ReceivedRequest,
  signingAccessKeyId,
  type TestCredentials,
} from "./sigv4_check.ts";

export type { Fault, FaultScope } from "./fault_injection.ts";
export type { ParameterType } from "./parameter_store.ts";
export type { TestCredentials } from "./sigv4_check.ts";

/**
 * The key pair the server accepts unless told otherwise (not a real key).
 * Not frozen: the SDK writes a `$source` marker onto credential objects.
 */
export const TEST_CREDENTIALS: TestCredentials = {
  accessKeyId: "AKIALOCALTESTEXAMPLE",
  secretAccessKey: "local/test/secret/access/key/EXAMPLEKEY",
};

/** Options of {@link startSecretsManagerServer}. */
export interface SecretsManagerServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Accepted key pairs; default `[TEST_CREDENTIALS]`. */
  credentials?: readonly TestCredentials[];
  /** Region of ARNs and of valid signatures; default `us-east-1`. */
  region?: string;
  /** Account id of ARNs and GetCallerIdentity; default `123456789012`. */
  accountId?: string;
  /** Clock in epoch milliseconds (dates, signature skew, credential expiry); default `Date.now`. */
  now?: () => number;
}

/** One call the server received. */
export interface CallRecord {
  readonly service: CallIdentity["service"];
  /** `GetSecretValue`, `GetCallerIdentity`, ...; "" when it could not be told. */
  readonly operation: string;
  /** The `User-Agent` header (falling back to `X-Amz-User-Agent`), or "". */
  readonly userAgent: string;
  readonly time: Date;
  /** SecretId (CreateSecret: Name) when the request names one. */
  readonly secretId?: string;
  /** SSM's Name (as sent: a name or ARN, with any selector) when the request names one. */
  readonly parameterName?: string;
  /** The role whose AssumeRole credentials signed the call (by the access key it names). */
  readonly roleArn?: string;
  /** The fault the call met, if any. */
  readonly fault?: Fault["kind"];
}

/** A running local Secrets Manager. */
export interface SecretsManagerServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Seeds a secret without the SDK; returns its ARN and first version id. */
  createSecret(
    name: string,
    value: string | Uint8Array,
    options?: {
      versionId?: string;
      /** For ListSecrets' tag filters. */
      tags?: readonly { key: string; value: string }[];
    },
  ): { arn: string; versionId: string };
  /** Adds a version (default label AWSCURRENT; the old one becomes AWSPREVIOUS). */
  putSecretValue(
    nameOrArn: string,
    value: string | Uint8Array,
    options?: { versionStages?: string[]; versionId?: string },
  ): { versionId: string };
  /** Moves, attaches or removes a label, with UpdateSecretVersionStage's rules. */
  updateSecretVersionStage(
    nameOrArn: string,
    stage: string,
    options: { moveToVersionId?: string; removeFromVersionId?: string },
  ): void;
  /** Removes a secret at once (ForceDeleteWithoutRecovery). */
  deleteSecret(nameOrArn: string): void;
  /** The store itself, for reads and assertions (GetSecretValue, DescribeSecret...). */
  readonly store: SecretsStore;
  /** Seeds a parameter version, as PutParameter with Overwrite (type defaults to the last version's, else String). */
  putParameter(
    name: string,
    value: string,
    options?: { type?: ParameterType; labels?: string[] },
  ): { version: number; arn: string };
  /** Moves `labels` onto a version of a parameter, as LabelParameterVersion. */
  labelParameterVersion(name: string, version: number, labels: string[]): void;
  /** The parameter store itself, for reads and assertions (getParameter, getParameterHistory). */
  readonly parameters: ParameterStore;
  /** Makes AssumeRole of `roleArn` answer 403 AccessDenied. */
  denyRole(roleArn: string): void;
  /** Lets `roleArn` be assumed, but its calls to Secrets Manager and SSM answer 400 AccessDeniedException. */
  denyServicesToRole(roleArn: string): void;
  /** Every call received, oldest first. */
  calls(): readonly CallRecord[];
  /** How many calls of `operation` were received. */
  countCalls(operation: string): number;
  /** Forgets the recorded calls. */
  resetCalls(): void;
  /** Switches a fault on (undefined = off), optionally for some operations or the next N calls. */
  setFault(fault: Fault | undefined, options?: FaultScope): void;
  /** The key JSON error bodies carry their message under; `message` unless set. */
  setErrorMessageKey(key: ErrorMessageKey): void;
  /** Stops listening and ends every connection, stalled ones included. */
  close(): Promise<void>;
}

/** Starts a local Secrets Manager on 127.0.0.1. */
export async function startSecretsManagerServer(
  options: SecretsManagerServerOptions = {},
): Promise<SecretsManagerServer> {
  const server = new LocalSecretsManager(options);
  await server.listen(options.port ?? 0);
  return server;
}

/** Runs `fn` with a new server, which is closed however `fn` ends. */
export async function withSecretsManagerServer<T>(
  fn: (server: SecretsManagerServer) => Promise<T>,
  options: SecretsManagerServerOptions = {},
): Promise<T> {
  const server = await startSecretsManagerServer(options);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

class LocalSecretsManager implements SecretsManagerServer {
  readonly store: SecretsStore;
  readonly parameters: ParameterStore;
  #sessions: RoleSessions;
  #http: Server;
  #sockets = new Set<Socket>();
  #calls: CallRecord[] = [];
  #faults = new FaultSwitch();
  #errorMessageKey: ErrorMessageKey = "message";
  #closing = new AbortController();
  #credentials: readonly TestCredentials[];
  #region: string;
  #accountId: string;
  #now: () => number;
  #port = 0;

  constructor(options: SecretsManagerServerOptions) {
    this.#credentials = options.credentials ?? [TEST_CREDENTIALS];
    this.#region = options.region ?? "us-east-1";
    this.#accountId = options.accountId ?? "123456789012";
    this.#now = options.now ?? Date.now;
    const home = {
      region: this.#region,
      accountId: this.#accountId,
      now: this.#now,
    };
    this.store = new SecretsStore(home);
    this.parameters = new ParameterStore(home);
    this.#sessions = new RoleSessions({ now: this.#now });
    this.#http = createServer((req, res) => this.#onRequest(req, res));
    this.#http.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#http.once("error", reject);
      this.#http.listen(port, "127.0.0.1", () => {
        this.#http.off("error", reject);
        const address = this.#http.address();
        if (address === null || typeof address === "string") {
          reject(new Error(`Unexpected server address: ${address}`));
          return;
        }
        this.#port = address.port;
        resolve();
      });
    });
  }

  createSecret(
    name: string,
    value: string | Uint8Array,
    options: {
      versionId?: string;
      tags?: readonly { key: string; value: string }[];
    } = {},
  ): { arn: string; versionId: string } {
    const created = this.store.createSecret(name, { value, ...options });
    return { arn: created.arn, versionId: created.versionId! };
  }

  putSecretValue(
    nameOrArn: string,
    value: string | Uint8Array,
    options: { versionStages?: string[]; versionId?: string } = {},
  ): { versionId: string } {
    return {
      versionId: this.store.putSecretValue(nameOrArn, value, options).versionId,
    };
  }

  updateSecretVersionStage(
    nameOrArn: string,
    stage: string,
    options: { moveToVersionId?: string; removeFromVersionId?: string },
  ): void {
    this.store.updateSecretVersionStage(nameOrArn, stage, options);
  }

  deleteSecret(nameOrArn: string): void {
    this.store.deleteSecret(nameOrArn, { force: true });
  }

  putParameter(
    name: string,
    value: string,
    options: { type?: ParameterType; labels?: string[] } = {},
  ): { version: number; arn: string } {
    const put = this.parameters.putParameter(name, value, options);
    return { version: put.version, arn: put.arn };
  }

  labelParameterVersion(
    name: string,
    version: number,
    labels: string[],
  ): void {
    this.parameters.labelParameterVersion(name, version, labels);
  }

  denyRole(roleArn: string): void {
    this.#sessions.deny(roleArn);
  }

  denyServicesToRole(roleArn: string): void {
    this.#sessions.denyServices(roleArn);
  }

  calls(): readonly CallRecord[] {
    return [...this.#calls];
  }

  countCalls(operation: string): number {
    return this.#calls.filter((c) => c.operation === operation).length;
  }

  resetCalls(): void {
    this.#calls = [];
  }

  setFault(fault: Fault | undefined, options?: FaultScope): void {
    this.#faults.set(fault, options);
  }

  setErrorMessageKey(key: ErrorMessageKey): void {
    this.#errorMessageKey = key;
  }

  close(): Promise<void> {
    this.#closing.abort();
    return new Promise((resolve) => {
      this.#http.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#serve(req, res).catch((error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({
        __type: "InternalServiceError",
        message: `An error occurred on the server side: ${error}`,
      }));
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({
        __type: "SerializationException",
        message: `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
      }));
      return;
    }
    const request: ReceivedRequest = {
      method: req.method ?? "GET",
      target: req.url ?? "/",
      headers: flattenHeaders(req.headers),
      body,
    };
    const call = identifyCall(request);
    const fault = this.#faults.take(call.operation);
    this.#calls.push({
      service: call.service,
      operation: call.operation,
      userAgent: request.headers["user-agent"] ??
        request.headers["x-amz-user-agent"] ?? "",
      time: new Date(this.#now()),
      secretId: call.secretId,
      parameterName: call.parameterName,
      roleArn: this.#sessions.find(signingAccessKeyId(request))?.roleArn,
      fault: fault?.kind,
    });
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    // A stalled request is left open; close() destroys its socket.
    if (fault?.kind === "stall") return;
    if (fault?.kind === "drip") {
      writeDrip(res, fault.intervalMs, this.#closing.signal);
      return;
    }
    if (fault?.kind === "html") {
      writeHtmlError(res, fault.status);
      return;
    }
    if (fault?.kind === "latency") await delay(fault.ms, this.#closing.signal);
    if (fault?.kind === "gate") await fault.opened;
    if (this.#closing.signal.aborted) return;
    const response = fault?.kind === "status" || fault?.kind === "throttle" ||
        fault?.kind === "denied"
      ? faultResponse(call, fault, this.#errorMessageKey)
      : await routeAwsCall(request, call, {
        store: this.store,
        parameters: this.parameters,
        sessions: this.#sessions,
        credentials: this.#credentials,
        region: this.#region,
        accountId: this.#accountId,
        now: this.#now,
        errorMessageKey: this.#errorMessageKey,
      });
    const payload = new Uint8Array(await response.arrayBuffer());
    const headers = {
      ...Object.fromEntries(response.headers),
      // AWS's Date header, by which SDKs correct their clock skew.
      date: new Date(this.#now()).toUTCString(),
      "content-length": String(payload.byteLength),
    };
    if (fault?.kind === "huge") {
      await writeHuge(res, response.status, headers, payload, {
        paddingBytes: fault.bytes,
        declareLength: fault.declareLength ?? false,
        signal: this.#closing.signal,
      });
      return;
    }
    res.writeHead(response.status, headers);
    res.end(payload);
  }
}
