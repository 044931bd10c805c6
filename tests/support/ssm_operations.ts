/**
 * Systems Manager's operations in AWS JSON 1.1 shape (`X-Amz-Target:
 * AmazonSSM.<Op>`): each takes the parsed request body, reads the parameter
 * store, and returns the response body. Only GetParameter is implemented.
 *
 * @module
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import {
  type JsonInput,
  readBoolean,
  readString,
  toBase64,
  toEpochSeconds,
} from "./json_input.ts";
import type { ParameterStore, StoredParameter } from "./parameter_store.ts";

/** One operation: request body in, response body out; throws `ServiceError`. */
export type SsmOperation = (
  store: ParameterStore,
  input: JsonInput,
) => Record<string, unknown>;

// The first bytes of a KMS ciphertext blob, so the text looks like one.
const KMS_BLOB_HEADER = [0x01, 0x02, 0x02, 0x00, 0x78];
const KMS_KEY = "local-test-kms-key";

/** The operations the server implements, by X-Amz-Target operation name. */
export const SSM_OPERATIONS: Readonly<Record<string, SsmOperation>> = {
  GetParameter(store, input) {
    const found = store.getParameter(
      readString(input, "Name", { required: true, min: 1, max: 2048 })!,
    );
    const isDecrypted = readBoolean(input, "WithDecryption") ?? false;
    return {
      Parameter: {
        Name: found.name,
        Type: found.type,
        Value: found.type === "SecureString" && !isDecrypted
          ? ciphertextOf(found)
          : found.value,
        Version: found.version,
        Selector: found.selector,
        LastModifiedDate: toEpochSeconds(found.lastModifiedDateMs),
        ARN: found.arn,
        DataType: found.dataType,
      },
    };
  },
};

/**
 * What GetParameter shows of a SecureString without decryption: base64 of
 * an HMAC of the version's value, stable across calls and never the plaintext.
 */
export function ciphertextOf(parameter: StoredParameter): string {
  const mac = new Sha256(KMS_KEY);
  mac.update(`${parameter.arn}:${parameter.version}:${parameter.value}`);
  return toBase64(new Uint8Array([...KMS_BLOB_HEADER, ...mac.digestSync()]));
}
