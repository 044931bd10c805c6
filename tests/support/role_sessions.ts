/**
 * The roles the local STS hands out temporary credentials for: which roles a
 * test has denied, and every session issued, so the signature check accepts
 * its credentials until they expire and calls can be traced to their role.
 *
 * @module
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import { toBase64 } from "./json_input.ts";
import type { TestCredentials } from "./sigv4_check.ts";

/** One AssumeRole's outcome. */
export interface RoleSession {
  readonly roleArn: string;
  readonly sessionName: string;
  /** The role's account (from its ARN). */
  readonly accountId: string;
  /** `arn:aws:sts::<account>:assumed-role/<role name>/<session name>` */
  readonly assumedRoleArn: string;
  /** `AROA...:<session name>` */
  readonly assumedRoleId: string;
  /** ASIA access key, secret and session token. */
  readonly credentials: Required<TestCredentials>;
  /** Epoch milliseconds, on a whole second as STS prints it. */
  readonly expiresAtMs: number;
}

/** Options of {@link RoleSessions}. */
export interface RoleSessionsOptions {
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

const ROLE_ARN =
  /^arn:aws:iam::(\d{12}):role\/(?:[\x21-\x7e]{1,510}\/)?([\w+=,.@-]{1,64})$/;
// Base32, as AWS's key and principal ids use.
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A role ARN's account and name, or undefined when it is not a role ARN. */
export function parseRoleArn(
  roleArn: string,
): { accountId: string; roleName: string } | undefined {
  const match = ROLE_ARN.exec(roleArn);
  return match ? { accountId: match[1], roleName: match[2] } : undefined;
}

/** Denied roles and issued sessions. */
export class RoleSessions {
  #denied = new Set<string>();
  #serviceDenied = new Set<string>();
  #sessions = new Map<string, RoleSession>();
  #now: () => number;

  /** No sessions, nothing denied. */
  constructor(options: RoleSessionsOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Makes AssumeRole of `roleArn` answer AccessDenied from now on. */
  deny(roleArn: string): void {
    this.#denied.add(roleArn);
  }

  /** Whether a test denied `roleArn`. */
  isDenied(roleArn: string): boolean {
    return this.#denied.has(roleArn);
  }

  /**
   * Lets `roleArn` be assumed but gives its sessions no Secrets Manager or
   * SSM access: their calls answer AccessDeniedException.
   */
  denyServices(roleArn: string): void {
    this.#serviceDenied.add(roleArn);
  }

  /** Whether a test took `roleArn`'s service access away. */
  isServiceDenied(roleArn: string): boolean {
    return this.#serviceDenied.has(roleArn);
  }

  /** Issues fresh credentials for `roleArn` (which must parse) for `durationSeconds`. */
  assume(
    roleArn: string,
    options: { sessionName: string; durationSeconds: number },
  ): RoleSession {
    const role = parseRoleArn(roleArn);
    if (!role) throw new RangeError(`Not a role ARN: ${roleArn}`);
    const startMs = Math.floor(this.#now() / 1000) * 1000;
    const session: RoleSession = {
      roleArn,
      sessionName: options.sessionName,
      accountId: role.accountId,
      assumedRoleArn:
        `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${options.sessionName}`,
      assumedRoleId: `${roleIdOf(roleArn)}:${options.sessionName}`,
      credentials: {
        accessKeyId: `ASIA${randomId(16)}`,
        secretAccessKey: randomText(30),
        sessionToken: randomText(120),
      },
      expiresAtMs: startMs + options.durationSeconds * 1000,
    };
    this.#sessions.set(session.credentials.accessKeyId, session);
    return session;
  }

  /** The session an access key belongs to, expired or not. */
  find(accessKeyId: string | undefined): RoleSession | undefined {
    return accessKeyId === undefined
      ? undefined
      : this.#sessions.get(accessKeyId);
  }

  /** Whether `session`'s credentials are past their expiration. */
  isExpired(session: RoleSession): boolean {
    return this.#now() >= session.expiresAtMs;
  }

  /** Every issued session's credentials, for the signature check. */
  credentials(): TestCredentials[] {
    return [...this.#sessions.values()].map((s) => s.credentials);
  }
}

/** A role's unique id: stable per ARN, as IAM's is per role. */
function roleIdOf(roleArn: string): string {
  const hash = new Sha256();
  hash.update(roleArn);
  const bytes = hash.digestSync().slice(0, 17);
  return `AROA${[...bytes].map((b) => ID_ALPHABET[b % 32]).join("")}`;
}

function randomId(length: number): string {
  return [...crypto.getRandomValues(new Uint8Array(length))]
    .map((b) => ID_ALPHABET[b % 32]).join("");
}

/** Base64 text of `bytes` random bytes (40 characters for 30). */
function randomText(bytes: number): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(bytes)));
}
