/**
 * Routing of a received AWS request: which service and operation it is,
 * the signature check (long-term keys and AssumeRole's temporary ones), and
 * the answer in that service's protocol (AWS JSON 1.1 for Secrets Manager
 * and SSM, awsQuery for STS).
 *
 * @module
 */

import { type JsonInput, parseJsonInput } from "./json_input.ts";
import type { ParameterStore } from "./parameter_store.ts";
import type { RoleSession, RoleSessions } from "./role_sessions.ts";
import { OPERATIONS } from "./secrets_manager_operations.ts";
import type { SecretsStore } from "./secrets_store.ts";
import {
  type ErrorMessageKey,
  jsonErrorResponse,
  ServiceError,
} from "./service_error.ts";
import {
  isSignatureProblem,
  type ReceivedRequest,
  type SignatureIdentity,
  type SignatureProblem,
  signingAccessKeyId,
  type TestCredentials,
  verifySignature,
} from "./sigv4_check.ts";
import { SSM_OPERATIONS } from "./ssm_operations.ts";
import type { Fault } from "./fault_injection.ts";
import {
  handleStsRequest,
  queryAction,
  stsErrorResponse,
  stsSignatureError,
} from "./sts_query.ts";

/** The service and operation a request is for, as far as it can be told. */
export interface CallIdentity {
  readonly service: "secretsmanager" | "ssm" | "sts" | "unknown";
  /** `GetSecretValue`, `GetParameter`, `AssumeRole`, ...; the raw target or "" when unknown. */
  readonly operation: string;
  /** SecretId (or CreateSecret's Name) when a Secrets Manager body names one. */
  readonly secretId?: string;
  /** Name when an SSM body names one. */
  readonly parameterName?: string;
}

/** What the router needs: the stores, accepted keys, where the account lives. */
export interface AwsRouterOptions {
  readonly store: SecretsStore;
  readonly parameters: ParameterStore;
  /** AssumeRole's sessions; their credentials are accepted until they expire. */
  readonly sessions: RoleSessions;
  /** Long-term keys. */
  readonly credentials: readonly TestCredentials[];
  readonly region: string;
  readonly accountId: string;
  readonly now: () => number;
  /** The key JSON error bodies carry their message under. */
  readonly errorMessageKey: ErrorMessageKey;
}

/** The JSON 1.1 services by X-Amz-Target prefix, and the SigV4 name each signs with. */
const JSON_SERVICES = {
  "secretsmanager.": "secretsmanager",
  "AmazonSSM.": "ssm",
} as const;
const decoder = new TextDecoder();

/** Tells which service and operation `request` is for, without judging it. */
export function identifyCall(request: ReceivedRequest): CallIdentity {
  const target = request.headers["x-amz-target"];
  const body = decoder.decode(request.body);
  if (target !== undefined) {
    for (const [prefix, service] of Object.entries(JSON_SERVICES)) {
      if (!target.startsWith(prefix)) continue;
      const operation = target.slice(prefix.length);
      return service === "ssm"
        ? { service, operation, parameterName: stringMember(body, ["Name"]) }
        : {
          service,
          operation,
          secretId: stringMember(body, ["SecretId", "Name"]),
        };
    }
    return { service: "unknown", operation: target };
  }
  const type = request.headers["content-type"] ?? "";
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return { service: "sts", operation: queryAction(body) ?? "" };
  }
  return { service: "unknown", operation: "" };
}

/** Answers `request` (signature first, then the operation). */
export async function routeAwsCall(
  request: ReceivedRequest,
  call: CallIdentity,
  options: AwsRouterOptions,
): Promise<Response> {
  const requestId = crypto.randomUUID();
  const checked = await authenticate(request, options);
  const scopeProblem = isSignatureProblem(checked)
    ? undefined
    : scopeError(checked, call, options.region);
  if (call.service === "sts") {
    if (isSignatureProblem(checked)) {
      return stsErrorResponse(stsSignatureError(checked), requestId);
    }
    if (scopeProblem) {
      return stsErrorResponse(
        { code: "SignatureDoesNotMatch", message: scopeProblem, status: 403 },
        requestId,
      );
    }
    return handleStsRequest(decoder.decode(request.body), checked, {
      accountId: options.accountId,
      requestId,
      sessions: options.sessions,
    });
  }
  const headers = { "x-amzn-requestid": requestId };
  try {
    if (isSignatureProblem(checked)) throw jsonSignatureError(checked);
    if (scopeProblem) {
      throw new ServiceError("InvalidSignatureException", scopeProblem);
    }
    const { session } = checked;
    if (session && options.sessions.isServiceDenied(session.roleArn)) {
      throw ServiceError.accessDenied(session, call);
    }
    const operation = request.method === "POST"
      ? jsonOperation(call, options)
      : undefined;
    if (!operation) {
      throw new ServiceError(
        "UnknownOperationException",
        `Unknown operation ${call.operation || "(no X-Amz-Target)"}.`,
      );
    }
    const output = operation(parseJsonInput(decoder.decode(request.body)));
    return new Response(JSON.stringify(output), {
      status: 200,
      headers: { ...headers, "content-type": "application/x-amz-json-1.1" },
    });
  } catch (error) {
    const { errorMessageKey } = options;
    if (error instanceof ServiceError) {
      return jsonErrorResponse(error, headers, errorMessageKey);
    }
    return jsonErrorResponse(
      new ServiceError(
        "InternalServiceError",
        `An error occurred on the server side: ${error}`,
        500,
      ),
      headers,
      errorMessageKey,
    );
  }
}

/** The answer a switched-on fault gives instead of the operation's. */
export function faultResponse(
  call: CallIdentity,
  fault: Extract<Fault, { kind: "status" | "throttle" | "denied" }>,
  errorMessageKey: ErrorMessageKey = "message",
): Response {
  const requestId = crypto.randomUUID();
  if (call.service === "sts") {
    return stsErrorResponse(
      fault.kind === "throttle"
        ? { code: "Throttling", message: "Rate exceeded", status: 400 }
        : fault.kind === "denied"
        ? { code: "AccessDenied", message: "Access denied", status: 403 }
        : fault.status === 500
        ? { code: "InternalFailure", message: "Internal failure", status: 500 }
        : {
          code: "ServiceUnavailable",
          message: "Service unavailable",
          status: 503,
        },
      requestId,
    );
  }
  const error = fault.kind === "throttle"
    ? new ServiceError("ThrottlingException", "Rate exceeded")
    : fault.kind === "denied"
    ? new ServiceError(
      "AccessDeniedException",
      "User is not authorized to perform this operation",
    )
    : fault.status === 500
    ? new ServiceError(
      // Each service's model names its 500 its own way.
      call.service === "ssm" ? "InternalServerError" : "InternalServiceError",
      "An error occurred on the server side.",
      500,
    )
    : new ServiceError("ServiceUnavailable", "Service is unavailable.", 503);
  return jsonErrorResponse(
    error,
    { "x-amzn-requestid": requestId },
    errorMessageKey,
  );
}

/** Who signed `request`: a valid, unexpired key, or why not. */
async function authenticate(
  request: ReceivedRequest,
  options: AwsRouterOptions,
): Promise<SignatureProblem | SignatureIdentity & { session?: RoleSession }> {
  const session = options.sessions.find(signingAccessKeyId(request));
  // An expired token is refused before its signature is looked at.
  if (session && options.sessions.isExpired(session)) {
    return { kind: "expired_token" };
  }
  const checked = await verifySignature(
    request,
    [...options.credentials, ...options.sessions.credentials()],
    options,
  );
  return isSignatureProblem(checked) ? checked : { ...checked, session };
}

/** The JSON 1.1 operation a call names, bound to its service's store. */
function jsonOperation(
  call: CallIdentity,
  options: AwsRouterOptions,
): ((input: JsonInput) => Record<string, unknown>) | undefined {
  const { service, operation } = call;
  if (service === "secretsmanager" && Object.hasOwn(OPERATIONS, operation)) {
    return (input) => OPERATIONS[operation](options.store, input);
  }
  if (service === "ssm" && Object.hasOwn(SSM_OPERATIONS, operation)) {
    return (input) => SSM_OPERATIONS[operation](options.parameters, input);
  }
  return undefined;
}

/** The JSON services' answer to a refused signature (all 400, as AWS does). */
function jsonSignatureError(problem: SignatureProblem): ServiceError {
  switch (problem.kind) {
    case "missing":
      return new ServiceError(
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
      );
    case "malformed":
      return new ServiceError(
        "IncompleteSignatureException",
        `Invalid signature: ${problem.detail}`,
      );
    case "unknown_key":
      return new ServiceError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    case "expired":
      return new ServiceError(
        "InvalidSignatureException",
        `Signature expired: ${problem.signedAt} is now earlier or later than 15 minutes from the current time.`,
      );
    case "expired_token":
      return new ServiceError(
        "ExpiredTokenException",
        "The security token included in the request is expired",
      );
    case "bad_signature":
      return new ServiceError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      );
  }
}

/** A valid signature scoped to the wrong service or region. */
function scopeError(
  identity: SignatureIdentity,
  call: CallIdentity,
  region: string,
): string | undefined {
  const service = call.service === "unknown" ? "secretsmanager" : call.service;
  if (identity.service !== service) {
    return `Credential should be scoped to correct service: '${service}'.`;
  }
  if (identity.region !== region) {
    return `Credential should be scoped to a valid region, not '${identity.region}'.`;
  }
  return undefined;
}

/** The first of `keys` that is a string member of a JSON body. */
function stringMember(
  body: string,
  keys: readonly string[],
): string | undefined {
  try {
    const input: unknown = JSON.parse(body);
    if (typeof input !== "object" || input === null) return undefined;
    const fields = input as Record<string, unknown>;
    const value = keys.map((key) => fields[key]).find((v) =>
      v !== undefined && v !== null
    );
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
