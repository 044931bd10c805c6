/**
 * Credentials as the SDK takes them from a provider function: what the
 * agent's own sources (`credentials_file.ts`, `credential_process.ts`) and
 * its assumed roles (`role_clients.ts`) give the SDK's clients.
 *
 * @module
 */

/** One set of credentials. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When the SDK should ask the provider again. */
  readonly expiration?: Date;
}
