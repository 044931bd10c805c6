/**
 * The errors the local Secrets Manager server answers with, as AWS names
 * them, and their AWS JSON 1.1 wire form.
 *
 * @module
 */

/** An AWS error: its code, message and the HTTP status AWS uses for it. */
export class ServiceError extends Error {
  /** The `__type` code, e.g. `ResourceNotFoundException`. */
  readonly code: string;
  /** HTTP status: 400 for client errors, 5xx for service faults. */
  readonly status: number;

  /** An error with `code` and `message`; status 400 unless given. */
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.status = status;
  }

  /** The secret does not exist. */
  static secretNotFound(): ServiceError {
    return new ServiceError(
      "ResourceNotFoundException",
      "Secrets Manager can't find the specified secret.",
    );
  }

  /** Something else (a version, a label) does not exist. */
  static notFound(message: string): ServiceError {
    return new ServiceError("ResourceNotFoundException", message);
  }

  /** A parameter value is not acceptable. */
  static invalidParameter(message: string): ServiceError {
    return new ServiceError("InvalidParameterException", message);
  }

  /** The request is not valid for the secret's current state. */
  static invalidRequest(message: string): ServiceError {
    return new ServiceError("InvalidRequestException", message);
  }

  /** The secret is scheduled for deletion. */
  static markedForDeletion(): ServiceError {
    return ServiceError.invalidRequest(
      "You can't perform this operation on the secret because it was marked for deletion.",
    );
  }

  /** A caller (here an assumed role) whose policies do not allow the action. */
  static accessDenied(
    caller: { readonly assumedRoleArn: string },
    call: { readonly service: string; readonly operation: string },
  ): ServiceError {
    const action = `${call.service}:${call.operation}`;
    return new ServiceError(
      "AccessDeniedException",
      `User: ${caller.assumedRoleArn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
    );
  }

  /** A field breaks the API model's constraints (type, length, required). */
  static validation(message: string): ServiceError {
    return new ServiceError("ValidationException", message);
  }
}

/**
 * The key of the message in a JSON error body: `message`, or `Message`,
 * which some AWS services and older endpoints write.
 */
export type ErrorMessageKey = "message" | "Message";

/** The AWS JSON 1.1 error response for `error`. */
export function jsonErrorResponse(
  error: ServiceError,
  headers: Record<string, string> = {},
  messageKey: ErrorMessageKey = "message",
): Response {
  return new Response(
    JSON.stringify({ __type: error.code, [messageKey]: error.message }),
    {
      status: error.status,
      headers: {
        ...headers,
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-errortype": `${error.code}:`,
      },
    },
  );
}
