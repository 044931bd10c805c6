/**
 * The soak's secrets and every value each one has held, so that each 200
 * the agent serves can be checked against the values of *that* secret, and
 * the rotations that change them.
 *
 * Every value carries a unique mark ({@linkcode VALUE_MARK}): a value that
 * turns up in a log, or in an error body, is found by its mark however it
 * was escaped.
 *
 * @module
 */

import type { SecretsManagerServer } from "../support/secrets_manager_server.ts";
import { delay } from "../support/node_http_io.ts";

/** Matches the unique mark inside every secret value the soak creates. */
export const VALUE_MARK = /SOAKVAL[0-9a-f]{24}/g;

/** Why a 200 body is not a value the agent may serve. */
export type Mismatch =
  | "invalid JSON"
  | "other secret's Name or ARN"
  | "value not current or previous"
  | "VersionId of another value";

interface Version {
  readonly value: string;
  readonly versionId: string;
}

interface Tracked {
  readonly arn: string;
  readonly versions: Version[];
  /** The newest version was served since the last rotation. */
  isCurrentServed: boolean;
  rotatedAtMs: number;
}

/** The soak's secrets in the local Secrets Manager, with their value history. */
export class SecretBook {
  readonly #server: SecretsManagerServer;
  readonly #secrets = new Map<string, Tracked>();
  readonly #marks = new Set<string>();
  /** From each rotation to the first answer holding the new value, in ms. */
  readonly rotationLagsMs: number[] = [];
  rotations = 0;

  constructor(server: SecretsManagerServer) {
    this.#server = server;
  }

  /** Creates `secretId` in the server with a first value. */
  create(secretId: string): void {
    const value = this.#newValue(secretId, 1);
    const { arn, versionId } = this.#server.createSecret(secretId, value);
    this.#secrets.set(secretId, {
      arn,
      versions: [{ value, versionId }],
      isCurrentServed: true,
      rotatedAtMs: performance.now(),
    });
  }

  /** Every mark of every value so far. */
  marks(): ReadonlySet<string> {
    return this.#marks;
  }

  /** Every value so far (all secrets, all versions). */
  valueCount(): number {
    return this.#marks.size;
  }

  /** The index of the current version; pass it to {@linkcode check} with the answer. */
  snapshot(secretId: string): number {
    return this.#tracked(secretId).versions.length - 1;
  }

  /**
   * Checks a 200 body for `secretId`, asked for when `snapshot` was current:
   * it must be that secret's value and VersionId of that moment, of the one
   * before it, or of one that became current while the request was out.
   */
  check(secretId: string, snapshot: number, body: string): Mismatch | "ok" {
    const tracked = this.#tracked(secretId);
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(body);
    } catch {
      return "invalid JSON";
    }
    if (answer?.Name !== secretId || answer.ARN !== tracked.arn) {
      return "other secret's Name or ARN";
    }
    const allowed = tracked.versions.slice(Math.max(0, snapshot - 1));
    const version = allowed.find((v) => v.value === answer.SecretString);
    if (version === undefined) return "value not current or previous";
    if (version.versionId !== answer.VersionId) {
      return "VersionId of another value";
    }
    if (version === tracked.versions.at(-1) && !tracked.isCurrentServed) {
      tracked.isCurrentServed = true;
      this.rotationLagsMs.push(performance.now() - tracked.rotatedAtMs);
    }
    return "ok";
  }

  /**
   * Puts a new value into `secretId` (PutSecretValue through the server's
   * API), but only once the agent has served its current one: a secret that
   * rotated twice while faults kept the agent on its cached copy would serve
   * a value two behind, which the agent may do.
   */
  rotate(secretId: string): boolean {
    const tracked = this.#tracked(secretId);
    if (!tracked.isCurrentServed) return false;
    const value = this.#newValue(secretId, tracked.versions.length + 1);
    const { versionId } = this.#server.putSecretValue(secretId, value);
    tracked.versions.push({ value, versionId });
    tracked.isCurrentServed = false;
    tracked.rotatedAtMs = performance.now();
    this.rotations++;
    return true;
  }

  #tracked(secretId: string): Tracked {
    const tracked = this.#secrets.get(secretId);
    if (tracked === undefined) throw new Error(`Untracked secret ${secretId}`);
    return tracked;
  }

  #newValue(secretId: string, version: number): string {
    const hex = Array.from(
      crypto.getRandomValues(new Uint8Array(12)),
      (byte) => byte.toString(16).padStart(2, "0"),
    ).join("");
    const mark = `SOAKVAL${hex}`;
    this.#marks.add(mark);
    // Quotes, a backslash and non-ASCII text, so escaping is exercised.
    return JSON.stringify({
      secret: secretId,
      version,
      password: mark,
      note: 'q"uote \\ caf\u00e9 \u{1F511}',
    });
  }
}

/** Options of {@linkcode rotateUntil}. */
export interface RotationOptions {
  /** Between two rotation attempts. */
  readonly intervalMs: number;
  /** Stops the loop. */
  readonly signal: AbortSignal;
  /** Upper bound on attempts. */
  readonly maxAttempts: number;
}

/** Rotates `secretIds` in turn, one attempt per interval, until `signal` aborts. */
export async function rotateUntil(
  book: SecretBook,
  secretIds: readonly string[],
  options: RotationOptions,
): Promise<void> {
  for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
    await delay(options.intervalMs, options.signal);
    if (options.signal.aborted) return;
    book.rotate(secretIds[attempt % secretIds.length]);
  }
}
