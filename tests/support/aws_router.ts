/**
 * Routing of a received AWS request: which service and operation it is,
 * the signature check, and the answer in that service's protocol (AWS JSON
 * 1.1 for Secrets Manager, awsQuery for STS).
 *
 * @module
 */

import { parseJsonInput } from "./json_input.ts";
import { OPERATIONS } from "./secrets_manager_operations.ts";
import type { SecretsStore } from "./secrets_store.ts";
import { jsonErrorResponse, ServiceError } from "./service_error.ts";
import {
  isSignatureProblem,
  type ReceivedRequest,
  type SignatureIdentity,
  type SignatureProblem,
  type TestCredentials,
  verifySignature,
} from "./sigv4_check.ts";
import type { Fault } from "./fault_injection.ts";
import {
  handleStsRequest,
  queryAction,
  stsErrorResponse,
  stsSignatureError,
} from "./sts_query.ts";

/** The service and operation a request is for, as far as it can be told. */
export interface CallIdentity {
  readonly service: "secretsmanager" | "sts" | "unknown";
  /** `GetSecretValue`, `GetCallerIdentity`, ...; the raw target or "" when unknown. */
  readonly operation: string;
  /** SecretId (or CreateSecret's Name) when the body names one. */
  readonly secretId?: string;
}

/** What the router needs: the store, accepted keys, where the account lives. */
export interface AwsRouterOptions {
  readonly store: SecretsStore;
  readonly credentials: readonly TestCredentials[];
  readonly region: string;
  readonly accountId: string;
  readonly now: () => number;
}

const TARGET_PREFIX = "secretsmanager.";
const decoder = new TextDecoder();

/** Tells which service and operation `request` is for, without judging it. */
export function identifyCall(request: ReceivedRequest): CallIdentity {
  const target = request.headers["x-amz-target"];
  const body = decoder.decode(request.body);
  if (target !== undefined) {
    if (!target.startsWith(TARGET_PREFIX)) {
      return { service: "unknown", operation: target };
    }
    return {
      service: "secretsmanager",
      operation: target.slice(TARGET_PREFIX.length),
      secretId: secretIdOf(body),
    };
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
  const checked = await verifySignature(request, options.credentials, options);
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
    });
  }
  const headers = { "x-amzn-requestid": requestId };
  try {
    if (isSignatureProblem(checked)) throw jsonSignatureError(checked);
    if (scopeProblem) {
      throw new ServiceError("InvalidSignatureException", scopeProblem);
    }
    const operation = call.service === "secretsmanager" &&
        request.method === "POST" && Object.hasOwn(OPERATIONS, call.operation)
      ? OPERATIONS[call.operation]
      : undefined;
    if (!operation) {
      throw new ServiceError(
        "UnknownOperationException",
        `Unknown operation ${call.operation || "(no X-Amz-Target)"}.`,
      );
    }
    const input = parseJsonInput(decoder.decode(request.body));
    const output = operation(options.store, input);
    return new Response(JSON.stringify(output), {
      status: 200,
      headers: { ...headers, "content-type": "application/x-amz-json-1.1" },
    });
  } catch (error) {
    if (error instanceof ServiceError) return jsonErrorResponse(error, headers);
    return jsonErrorResponse(
      new ServiceError(
        "InternalServiceError",
        `An error occurred on the server side: ${error}`,
        500,
      ),
      headers,
    );
  }
}

/** The answer a switched-on fault gives instead of the operation's. */
export function faultResponse(
  call: CallIdentity,
  fault: Extract<Fault, { kind: "status" | "throttle" }>,
): Response {
  const requestId = crypto.randomUUID();
  if (call.service === "sts") {
    return stsErrorResponse(
      fault.kind === "throttle"
        ? { code: "Throttling", message: "Rate exceeded", status: 400 }
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
    : fault.status === 500
    ? new ServiceError(
      "InternalServiceError",
      "An error occurred on the server side.",
      500,
    )
    : new ServiceError("ServiceUnavailable", "Service is unavailable.", 503);
  return jsonErrorResponse(error, { "x-amzn-requestid": requestId });
}

/** Secrets Manager's answer to a refused signature (all 400, as AWS does). */
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
  const service = call.service === "sts" ? "sts" : "secretsmanager";
  if (identity.service !== service) {
    return `Credential should be scoped to correct service: '${service}'.`;
  }
  if (identity.region !== region) {
    return `Credential should be scoped to a valid region, not '${identity.region}'.`;
  }
  return undefined;
}

function secretIdOf(body: string): string | undefined {
  try {
    const input: unknown = JSON.parse(body);
    if (typeof input !== "object" || input === null) return undefined;
    const fields = input as Record<string, unknown>;
    const id = fields.SecretId ?? fields.Name;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}
