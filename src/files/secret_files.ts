/**
 * The `[[file]]` entries kept on disk: each file's secret is asked of the
 * agent's cache at start-up, in the background (listening never waits on
 * it), and again every interval (the cache's TTL), and the file is replaced
 * atomically (`atomic_file.ts`) only when the answer brings something new.
 *
 * Why poll the cache rather than hook into its renewals: the cache renews
 * only entries that are read (an entry nobody reads is left to expire), and
 * a read after the TTL runs exactly the cheap check a renewal would
 * (DescribeSecret, GetSecretValue only for a new version), shared with HTTP
 * clients asking for the same secret; the writer is then just another
 * client, and the cache knows nothing of files. A read is scheduled one
 * interval after the previous one finished, so it finds the entry expired
 * and a new version reaches the file within one interval of the cache
 * seeing it (two at most when HTTP reads renewed the entry in between).
 *
 * Rules:
 * - The version unchanged (same VersionId as last handled): nothing is
 *   written. A new version whose content is the same bytes (another field
 *   changed, for a `json_key`): nothing is written either.
 * - A failure (the secret cannot be fetched, the file cannot be written, a
 *   `json_key` that does not fit the secret) is one ERROR line and leaves the
 *   last good file as it is; the next poll tries again. Until a file has
 *   been written once, polls come sooner (1 s, doubling up to the interval),
 *   so a start before the network is up does not leave it missing for a
 *   whole TTL.
 * - `stop` (on SIGTERM) cancels the timers, and waits for a write in
 *   progress, which removes its temporary file if it does not finish.
 *
 * @module
 */

import type { SecretFile } from "../config/file_entries.ts";
import {
  describeFieldProblem,
  jsonField,
  readBody,
} from "../cache/secret_field.ts";
import type { SecretRequest } from "../cache/secret_value.ts";
import {
  type Scheduler,
  SYSTEM_SCHEDULER,
  type TimerHandle,
} from "../cache/refresh_ahead.ts";
import { firstLine } from "../failure_text.ts";
import { writeFileAtomically } from "./atomic_file.ts";

/** What the files need of the cache (`SecretCache` has it); rejects with `UpstreamError`. */
export interface SecretFileSource {
  get(
    request: SecretRequest,
  ): Promise<{ readonly body: string; readonly versionId: string }>;
}

/** Replaces a file's content; throws with a one-line message. */
export type WriteFile = (
  path: string,
  data: Uint8Array,
  options: { readonly mode: number },
) => Promise<void>;

/** Options of {@linkcode startSecretFiles}. */
export interface SecretFilesOptions {
  /** How long after one poll of a file's secret the next one starts. */
  readonly intervalMs: number;
  /** Where each write (INFO) and failure (ERROR) is told, one line each. */
  readonly log: {
    info(message: string): void;
    error(message: string): void;
  };
  /** Defaults to {@linkcode writeFileAtomically}. */
  readonly writeFile?: WriteFile;
  /** Timers; defaults to the platform's, unref'd. */
  readonly scheduler?: Scheduler;
}

/** Files being kept current. */
export interface SecretFiles {
  /** Stops polling; resolves once no write is in progress. */
  stop(): Promise<void>;
}

/** The first retry delay while a file has never been written. */
const FIRST_RETRY_MS = 1000;

/**
 * Starts keeping `files` current from `source` and returns at once; the
 * first poll of each file starts now.
 *
 * @example
 * ```ts ignore
 * const files = startSecretFiles(cache, config.files, { intervalMs: 300_000, log });
 * // on SIGTERM:
 * await files.stop();
 * ```
 */
export function startSecretFiles(
  source: SecretFileSource,
  files: readonly SecretFile[],
  options: SecretFilesOptions,
): SecretFiles {
  const kept = files.map((file) => new KeptFile(source, file, options));
  for (const each of kept) each.poll();
  return {
    async stop() {
      await Promise.all(kept.map((each) => each.stop()));
    },
  };
}

/** What a file's content is: bytes to write, or why the secret does not fit its `json_key`. */
type Content =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: string };

const encoder = new TextEncoder();

/** One file and what was last done for it. */
class KeptFile {
  readonly #source: SecretFileSource;
  readonly #file: SecretFile;
  readonly #request: SecretRequest;
  readonly #options: SecretFilesOptions;
  readonly #scheduler: Scheduler;
  readonly #writeFile: WriteFile;
  /** The version last handled: written, or refused for its content. */
  #versionId: string | undefined;
  /** What the file was last written with; undefined until the first write. */
  #written: Uint8Array | undefined;
  #retryMs = FIRST_RETRY_MS;
  #timer: TimerHandle | undefined;
  #writing: Promise<void> | undefined;
  #isStopped = false;

  constructor(
    source: SecretFileSource,
    file: SecretFile,
    options: SecretFilesOptions,
  ) {
    this.#source = source;
    this.#file = file;
    this.#request = {
      secretId: file.secretId,
      ...(file.versionStage === undefined
        ? {}
        : { versionStage: file.versionStage }),
      ...(file.roleArn === undefined ? {} : { roleArn: file.roleArn }),
    };
    this.#options = options;
    this.#scheduler = options.scheduler ?? SYSTEM_SCHEDULER;
    this.#writeFile = options.writeFile ?? writeFileAtomically;
  }

  /** Asks for the secret, writes what is new, and schedules the next poll. */
  poll(): void {
    this.#timer = undefined;
    this.#sync().finally(() => {
      if (this.#isStopped) return;
      this.#timer = this.#scheduler.setTimer(
        () => this.poll(),
        this.#nextDelayMs(),
      );
    });
  }

  async stop(): Promise<void> {
    this.#isStopped = true;
    if (this.#timer !== undefined) this.#scheduler.clearTimer(this.#timer);
    await this.#writing;
  }

  #nextDelayMs(): number {
    const { intervalMs } = this.#options;
    if (this.#written !== undefined) return intervalMs;
    const delayMs = Math.min(this.#retryMs, intervalMs);
    this.#retryMs = Math.min(this.#retryMs * 2, intervalMs);
    return delayMs;
  }

  async #sync(): Promise<void> {
    const { path, secretId, jsonKey } = this.#file;
    const { log } = this.#options;
    let answer: { readonly body: string; readonly versionId: string };
    try {
      answer = await this.#source.get(this.#request);
    } catch (error) {
      log.error(
        `File ${path}: could not get secret ${secretId}: ${
          firstLine(error)
        }; the file is left as it is`,
      );
      return;
    }
    if (this.#isStopped || answer.versionId === this.#versionId) return;
    const content = contentOf(answer.body, jsonKey);
    if (!content.ok) {
      this.#versionId = answer.versionId;
      log.error(
        `File ${path}: ${content.reason} (secret ${secretId}, version ${answer.versionId}); the file is not written`,
      );
      return;
    }
    if (this.#written !== undefined && isSame(this.#written, content.bytes)) {
      this.#versionId = answer.versionId;
      return;
    }
    this.#writing = this.#write(content.bytes, answer.versionId);
    await this.#writing;
    this.#writing = undefined;
  }

  async #write(bytes: Uint8Array, versionId: string): Promise<void> {
    const { path, secretId, mode } = this.#file;
    const { log } = this.#options;
    try {
      await this.#writeFile(path, bytes, { mode });
    } catch (error) {
      log.error(
        `File ${path}: could not write secret ${secretId}: ${
          firstLine(error)
        }; the file is left as it is`,
      );
      return;
    }
    this.#versionId = versionId;
    this.#written = bytes;
    log.info(`Wrote secret ${secretId} (version ${versionId}) to ${path}`);
  }
}

/** The SecretString's text (or its `jsonKey` field's), or SecretBinary's bytes. */
function contentOf(body: string, jsonKey: string | undefined): Content {
  const { payload } = readBody(body);
  if (jsonKey !== undefined) {
    const field = jsonField(payload, jsonKey);
    return field.ok ? { ok: true, bytes: encoder.encode(field.text) } : {
      ok: false,
      reason: describeFieldProblem(field.problem, "json_key", jsonKey),
    };
  }
  return {
    ok: true,
    bytes: payload.secretString === undefined
      ? Uint8Array.fromBase64(payload.secretBinary)
      : encoder.encode(payload.secretString),
  };
}

function isSame(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}
