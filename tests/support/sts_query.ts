/**
 * STS over the awsQuery protocol, as `@aws-sdk/client-sts` speaks it:
 * form-encoded `Action=...&Version=2011-06-15` in, XML out, errors as
 * `<ErrorResponse>`. GetCallerIdentity and AssumeRole are implemented; the
 * credentials AssumeRole issues are kept in {@link RoleSessions}.
 *
 * @module
 */

import {
  parseRoleArn,
  type RoleSession,
  type RoleSessions,
} from "./role_sessions.ts";
import type { SignatureProblem } from "./sigv4_check.ts";

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

/** An STS error: awsQuery code, message, status and fault side. */
export interface StsError {
  readonly code: string;
  readonly message: string;
  readonly status: number;
}

/** The `Action` of a form-encoded query request, or undefined. */
export function queryAction(body: string): string | undefined {
  return new URLSearchParams(body).get("Action") ?? undefined;
}

/** Who signed an STS request: a long-term key of the account, or a role session. */
export interface StsCaller {
  readonly accessKeyId: string;
  /** Set when the key is temporary credentials from AssumeRole. */
  readonly session?: RoleSession;
}

/** What the STS actions need besides the request. */
export interface StsOptions {
  readonly accountId: string;
  readonly requestId: string;
  readonly sessions: RoleSessions;
}

type Action = (
  params: URLSearchParams,
  caller: StsCaller,
  options: StsOptions,
) => StsError | string;

const SESSION_NAME = /^[\w+=,.@-]*$/;
const DEFAULT_DURATION_SECONDS = 3600;
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43200;

const ACTIONS: Readonly<Record<string, Action>> = {
  GetCallerIdentity(_params, caller, options) {
    const session = caller.session;
    return `<Arn>${escapeXml(callerArn(caller, options))}</Arn>
    <UserId>${escapeXml(session?.assumedRoleId ?? caller.accessKeyId)}</UserId>
    <Account>${session?.accountId ?? options.accountId}</Account>`;
  },
  AssumeRole(params, caller, options) {
    const roleArn = params.get("RoleArn");
    const sessionName = params.get("RoleSessionName");
    if (roleArn === null) {
      return validationError(
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
      );
    }
    if (sessionName === null) {
      return validationError(
        "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
      );
    }
    const nameProblem = sessionNameProblem(sessionName);
    if (nameProblem) return validationError(nameProblem);
    const duration = readDuration(params.get("DurationSeconds"));
    if (typeof duration !== "number") return duration;
    if (!parseRoleArn(roleArn)) {
      return {
        code: "ValidationError",
        message: "Request ARN is invalid",
        status: 400,
      };
    }
    if (options.sessions.isDenied(roleArn)) {
      return {
        code: "AccessDenied",
        message: `User: ${
          callerArn(caller, options)
        } is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        status: 403,
      };
    }
    const session = options.sessions.assume(roleArn, {
      sessionName,
      durationSeconds: duration,
    });
    return assumeRoleResult(session);
  },
};

/** Answers an STS request whose signature has been checked. */
export function handleStsRequest(
  body: string,
  caller: StsCaller,
  options: StsOptions,
): Response {
  const params = new URLSearchParams(body);
  const action = params.get("Action") ?? "";
  const result = Object.hasOwn(ACTIONS, action)
    ? ACTIONS[action](params, caller, options)
    : {
      code: "InvalidAction",
      message: `Could not find operation ${action} for version ${
        params.get("Version") ?? ""
      }`,
      status: 400,
    };
  if (typeof result !== "string") {
    return stsErrorResponse(result, options.requestId);
  }
  const xml = `<${action}Response xmlns="${NAMESPACE}">
  <${action}Result>
    ${result}
  </${action}Result>
  <ResponseMetadata>
    <RequestId>${options.requestId}</RequestId>
  </ResponseMetadata>
</${action}Response>
`;
  return new Response(xml, {
    status: 200,
    headers: {
      "content-type": "text/xml",
      "x-amzn-requestid": options.requestId,
    },
  });
}

/** The STS error for a refused signature, as AWS words it (403; an expired token 400). */
export function stsSignatureError(problem: SignatureProblem): StsError {
  switch (problem.kind) {
    case "missing":
      return {
        code: "MissingAuthenticationToken",
        message: "Request is missing Authentication Token",
        status: 403,
      };
    case "unknown_key":
      return {
        code: "InvalidClientTokenId",
        message: "The security token included in the request is invalid.",
        status: 403,
      };
    case "expired":
      return {
        code: "SignatureDoesNotMatch",
        message:
          `Signature expired: ${problem.signedAt} is now earlier or later than 15 minutes from the current time.`,
        status: 403,
      };
    case "malformed":
      return {
        code: "IncompleteSignature",
        message: `Invalid signature: ${problem.detail}`,
        status: 403,
      };
    case "expired_token":
      return {
        code: "ExpiredToken",
        message: "The security token included in the request is expired",
        status: 400,
      };
    case "bad_signature":
      return {
        code: "SignatureDoesNotMatch",
        message:
          "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        status: 403,
      };
  }
}

/** An `<ErrorResponse>` document with `error`'s status. */
export function stsErrorResponse(error: StsError, requestId: string): Response {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  const xml = `<ErrorResponse xmlns="${NAMESPACE}">
  <Error>
    <Type>${type}</Type>
    <Code>${escapeXml(error.code)}</Code>
    <Message>${escapeXml(error.message)}</Message>
  </Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>
`;
  return new Response(xml, {
    status: error.status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
  });
}

/** The ARN STS names the caller by: the account's test user, or the assumed role. */
function callerArn(caller: StsCaller, options: StsOptions): string {
  return caller.session?.assumedRoleArn ??
    `arn:aws:iam::${options.accountId}:user/local-test`;
}

/** AssumeRoleResult's members, in the order STS sends them. */
function assumeRoleResult(session: RoleSession): string {
  const { accessKeyId, secretAccessKey, sessionToken } = session.credentials;
  // STS prints whole seconds: 2019-11-09T13:34:41Z.
  const expiration = new Date(session.expiresAtMs).toISOString()
    .replace(/\.\d{3}Z$/, "Z");
  return `<Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${escapeXml(secretAccessKey)}</SecretAccessKey>
      <SessionToken>${escapeXml(sessionToken)}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>${escapeXml(session.assumedRoleId)}</AssumedRoleId>
      <Arn>${escapeXml(session.assumedRoleArn)}</Arn>
    </AssumedRoleUser>`;
}

function validationError(detail: string): StsError {
  return {
    code: "ValidationError",
    message: `1 validation error detected: ${detail}`,
    status: 400,
  };
}

function sessionNameProblem(name: string): string | undefined {
  const at =
    `Value '${name}' at 'roleSessionName' failed to satisfy constraint:`;
  if (name.length < 2) {
    return `${at} Member must have length greater than or equal to 2`;
  }
  if (name.length > 64) {
    return `${at} Member must have length less than or equal to 64`;
  }
  if (!SESSION_NAME.test(name)) {
    return `${at} Member must satisfy regular expression pattern: [\\w+=,.@-]*`;
  }
  return undefined;
}

/** DurationSeconds (default one hour), or the ValidationError for it. */
function readDuration(text: string | null): number | StsError {
  if (text === null) return DEFAULT_DURATION_SECONDS;
  const at =
    `Value '${text}' at 'durationSeconds' failed to satisfy constraint:`;
  const seconds = Number(text);
  if (!/^-?\d+$/.test(text)) {
    return validationError(`${at} Member must be an integer`);
  }
  if (seconds < MIN_DURATION_SECONDS) {
    return validationError(
      `${at} Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`,
    );
  }
  if (seconds > MAX_DURATION_SECONDS) {
    return validationError(
      `${at} Member must have value less than or equal to ${MAX_DURATION_SECONDS}`,
    );
  }
  return seconds;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
