/**
 * Hand-built, correctly signed requests to the local Secrets Manager server,
 * for the cases the SDK never sends (malformed JSON, unknown targets) and to
 * look at the raw wire format.
 *
 * @module
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { TestCredentials } from "./sigv4_check.ts";

/** Options of {@link signedFetch}. */
export interface SignedFetchOptions {
  /** `X-Amz-Target`; omitted when undefined. */
  target?: string;
  /** Default `application/x-amz-json-1.1`. */
  contentType?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Default `secretsmanager`. */
  service?: string;
  /** Default now. */
  signingDate?: Date;
}

/** POSTs `body` to `url` signed with `credentials`, as an SDK would. */
export async function signedFetch(
  url: string,
  credentials: TestCredentials,
  body: string,
  options: SignedFetchOptions = {},
): Promise<Response> {
  const { hostname, port, host } = new URL(url);
  const region = options.region ?? "us-east-1";
  const headers: Record<string, string> = {
    host,
    "content-type": options.contentType ?? "application/x-amz-json-1.1",
  };
  if (options.target !== undefined) headers["x-amz-target"] = options.target;
  const signer = new SignatureV4({
    credentials: { ...credentials },
    region,
    service: options.service ?? "secretsmanager",
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname,
    port: Number(port),
    path: "/",
    query: {},
    headers,
    body,
  }, { signingDate: options.signingDate });
  const sent = { ...signed.headers };
  delete sent.host;
  return await fetch(url, { method: "POST", headers: sent, body });
}
