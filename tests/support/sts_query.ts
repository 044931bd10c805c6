/**
 * STS over the awsQuery protocol, as `@aws-sdk/client-sts` speaks it:
 * form-encoded `Action=...&Version=2011-06-15` in, XML out, errors as
 * `<ErrorResponse>`. Only GetCallerIdentity is implemented.
 *
 * @module
 */

import type { SignatureIdentity, SignatureProblem } from "./sigv4_check.ts";

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

/** Answers an STS request whose signature has been checked. */
export function handleStsRequest(
  body: string,
  caller: SignatureIdentity,
  options: { accountId: string; requestId: string },
): Response {
  const params = new URLSearchParams(body);
  const action = params.get("Action");
  if (action !== "GetCallerIdentity") {
    return stsErrorResponse({
      code: "InvalidAction",
      message: `Could not find operation ${action ?? ""} for version ${
        params.get("Version") ?? ""
      }`,
      status: 400,
    }, options.requestId);
  }
  const xml = `<GetCallerIdentityResponse xmlns="${NAMESPACE}">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::${options.accountId}:user/local-test</Arn>
    <UserId>${escapeXml(caller.accessKeyId)}</UserId>
    <Account>${options.accountId}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>${options.requestId}</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`;
  return new Response(xml, {
    status: 200,
    headers: {
      "content-type": "text/xml",
      "x-amzn-requestid": options.requestId,
    },
  });
}

/** The STS error for a refused signature, as AWS words it (403). */
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

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
