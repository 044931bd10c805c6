/**
 * Cross-account reads: per role, session credentials from STS AssumeRole,
 * kept until shortly before they expire and renewed by one call however many
 * requests need them; and the SDK clients built on them, for a bounded
 * number of roles (the least recently used role's clients are destroyed).
 *
 * @module
 */

import { LruMap } from "../cache/lru_map.ts";
import type { Credentials } from "./credentials.ts";

/** Renew this long before expiry, as the SDK's own providers do. */
const RENEW_MARGIN_MS = 5 * 60 * 1000;

/**
 * A provider over `assume`: its credentials are reused until `marginMs`
 * before they expire; concurrent callers share one call; a failure is not
 * kept, so the next caller tries again.
 */
export function sessionCredentials(
  assume: () => Promise<Credentials>,
  options: { readonly now?: () => number; readonly marginMs?: number } = {},
): () => Promise<Credentials> {
  const now = options.now ?? Date.now;
  const marginMs = options.marginMs ?? RENEW_MARGIN_MS;
  let current: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  const isFresh = (credentials: Credentials) =>
    credentials.expiration === undefined ||
    credentials.expiration.getTime() - marginMs > now();
  return () => {
    if (current !== undefined && isFresh(current)) {
      return Promise.resolve(current);
    }
    pending ??= assume().then(
      (credentials) => {
        current = credentials;
        pending = undefined;
        return credentials;
      },
      (error) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}

/** The clients of one role; destroyed when the role is evicted. */
export interface Destroyable {
  destroy(): void;
}

/** The clients for at most `maxRoles` roles, built on first use. */
export class RoleClients<C extends Destroyable> {
  readonly #clients: LruMap<string, C>;
  readonly #create: (roleArn: string) => C;

  /** Throws `RangeError` for a `maxRoles` below 1. */
  constructor(maxRoles: number, create: (roleArn: string) => C) {
    if (!Number.isSafeInteger(maxRoles) || maxRoles < 1) {
      throw new RangeError(
        `maxRoles must be a positive integer, got ${maxRoles}`,
      );
    }
    this.#clients = new LruMap(maxRoles, {
      onEvict: (_, clients) => clients.destroy(),
    });
    this.#create = create;
  }

  /** The role's clients, built now if the role is new (evicting the least recently used). */
  get(roleArn: string): C {
    let clients = this.#clients.get(roleArn);
    if (clients === undefined) {
      clients = this.#create(roleArn);
      this.#clients.set(roleArn, clients);
    }
    return clients;
  }

  /** How many roles have clients now. */
  get size(): number {
    return this.#clients.size;
  }

  /** Destroys every role's clients. */
  destroy(): void {
    for (const roleArn of this.#clients.keys()) {
      this.#clients.peek(roleArn)?.destroy();
    }
    this.#clients.clear();
  }
}
