/**
 * Verifies the AWS Signature Version 4 of an incoming request by signing it
 * again with the SDK's own signer and comparing signatures.
 *
 * @module
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** An access key pair the server accepts. */
export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, requests must carry it in `X-Amz-Security-Token`. */
  readonly sessionToken?: string;
}

/** A request as received: lower-case header names, raw body. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** Why a signature was refused; each protocol names these its own way. */
export type SignatureProblem =
  | { readonly kind: "missing" }
  | { readonly kind: "malformed"; readonly detail: string }
  | { readonly kind: "unknown_key"; readonly accessKeyId: string }
  | { readonly kind: "bad_signature" }
  | { readonly kind: "expired"; readonly signedAt: string }
  /** Temporary credentials past their expiration (told by the caller, not by {@link verifySignature}). */
  | { readonly kind: "expired_token" };

/** What a valid signature tells: who signed, for which region and service. */
export interface SignatureIdentity {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** Options of {@link verifySignature}. */
export interface VerifySignatureOptions {
  /** Clock in epoch milliseconds, for the 15-minute skew check; default `Date.now`. */
  now?: () => number;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

/** Checks `request`'s signature against `accepted` keys; a problem or the signer's identity. */
export async function verifySignature(
  request: ReceivedRequest,
  accepted: readonly TestCredentials[],
  options: VerifySignatureOptions = {},
): Promise<SignatureProblem | SignatureIdentity> {
  const authorization = request.headers["authorization"];
  if (authorization === undefined) return { kind: "missing" };
  const match = AUTH_PATTERN.exec(authorization);
  const amzDate = request.headers["x-amz-date"];
  if (!match || amzDate === undefined) {
    return { kind: "malformed", detail: "Authorization header or X-Amz-Date" };
  }
  const [, accessKeyId, shortDate, region, service, signedList, signature] =
    match;
  const credentials = accepted.find((c) => c.accessKeyId === accessKeyId);
  const token = request.headers["x-amz-security-token"];
  if (!credentials || credentials.sessionToken !== token) {
    return { kind: "unknown_key", accessKeyId };
  }
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || !amzDate.startsWith(shortDate)) {
    return { kind: "malformed", detail: `X-Amz-Date ${amzDate}` };
  }
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) {
    return { kind: "expired", signedAt: amzDate };
  }
  const signedNames = signedList.split(";");
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = request.headers[name];
    if (value === undefined) return { kind: "bad_signature" };
    headers[name] = value;
  }
  // The signer trusts a declared payload hash; the body must match it.
  const declaredHash = headers["x-amz-content-sha256"];
  if (
    declaredHash !== undefined && declaredHash !== "UNSIGNED-PAYLOAD" &&
    declaredHash !== await sha256Hex(request.body)
  ) {
    return { kind: "bad_signature" };
  }
  const [path, query] = splitTarget(request.target);
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: "http:",
    hostname: "127.0.0.1",
    path,
    query,
    headers,
    body: request.body,
  }, {
    signingDate,
    signingRegion: region,
    signingService: service,
    // Sign exactly what the client signed, even headers the signer skips.
    signableHeaders: new Set(signedNames),
  });
  const expected = /Signature=([0-9a-f]{64})/.exec(
    signed.headers["authorization"],
  )?.[1];
  return expected !== undefined && timingSafeEqual(expected, signature)
    ? { accessKeyId, region, service }
    : { kind: "bad_signature" };
}

/** The access key id an Authorization header names, signature unchecked. */
export function signingAccessKeyId(
  request: ReceivedRequest,
): string | undefined {
  const authorization = request.headers["authorization"] ?? "";
  return /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}

/** Whether a {@link verifySignature} result is a problem. */
export function isSignatureProblem(
  result: SignatureProblem | SignatureIdentity,
): result is SignatureProblem {
  return "kind" in result;
}

/** "20240102T030405Z" as a Date, or undefined. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function splitTarget(
  target: string,
): [string, Record<string, string | string[]>] {
  const url = new URL(target, "http://127.0.0.1");
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const prior = query[key];
    query[key] = prior === undefined
      ? value
      : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return [url.pathname, query];
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = new Sha256();
  hash.update(bytes);
  return [...await hash.digest()].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
