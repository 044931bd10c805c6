/**
 * An append-only log file that starts a new file when it would pass a size
 * limit and keeps a bounded number of gzipped archives.
 *
 * Writes are synchronous (`Deno.openSync` / `writeSync`): the bytes are on
 * disk, in call order, when `write` returns, so no queue can reorder or lose
 * them, and a failure is known at the call that caused it. The logger hands
 * it batches of lines (see `line_batch.ts`), so the cost is one `write(2)`
 * per batch.
 *
 * Rotation renames the current file to `<directory>/archive/<fileName>.<n>`
 * (n grows by one per rotation: the highest number is the newest archive) and
 * opens a fresh file, all synchronously. Compression with
 * `CompressionStream("gzip")` is asynchronous, so it runs afterwards on one
 * serialized queue: it writes `<fileName>.<n>.gz.tmp`, renames it to
 * `<fileName>.<n>.gz` and removes the plain file in one synchronous step, so
 * an archive is always either the plain file or a complete `.gz`. Pruning to
 * `maxFiles` archives happens synchronously at every rotation and counts
 * plain and gzipped archives alike, so the folder never holds more than
 * `maxFiles` archives plus the current file, even when many rotations happen
 * before the queue gets to run. A plain archive left by a crash is compressed
 * at the next start; if compression fails the plain archive is kept (no line
 * is lost) and still counts towards `maxFiles`.
 *
 * No file is opened through a symbolic link, and the folder and its archive
 * folder must be the agent's own (see `log_folder.ts`): a folder others may
 * write to is refused at `open`, so rotation can never write outside it.
 *
 * @module
 */

import { firstLine } from "../failure_text.ts";
import {
  chmodOpenFile,
  createFile,
  ensureLogFolder,
  isSameFile,
  LogFolderError,
  lstatOrUndefined,
  openForAppend,
  openForRead,
} from "./log_folder.ts";

/** Options of {@linkcode RotatingFile.open}. */
export interface RotatingFileOptions {
  /**
   * Folder of the current file; created with mode 0700 when missing, refused
   * when others may write to it or own it, set to 0700 when only wider to read.
   */
  directory: string;
  /** Name of the current file inside `directory`. */
  fileName: string;
  /** A line that would make the current file pass this size starts a new file. */
  maxBytes: number;
  /** Archives kept in `<directory>/archive`; the oldest beyond it are deleted. */
  maxFiles: number;
  /** Receives one line describing a failure; must not throw. */
  reportError: (message: string) => void;
  /** Clock in milliseconds, used to check at most once a second that the file is still there. */
  nowMs: () => number;
  /** Receives one line when a folder's mode was tightened to 0700; must not throw. */
  reportNotice?: (message: string) => void;
}

const FILE_MODE = 0o600;
const ARCHIVE_FOLDER = "archive";
/** How often (clock time) `write` checks that the path still names the open file. */
const IDENTITY_CHECK_INTERVAL_MS = 1000;
const NEWLINE = 0x0a;

/** An append-only, size-rotated log file with gzipped archives. */
export class RotatingFile {
  readonly #options: RotatingFileOptions;
  readonly #path: string;
  readonly #archiveDirectory: string;
  readonly #archivePattern: RegExp;
  #file: Deno.FsFile | undefined;
  #sizeBytes = 0;
  #nextArchiveNumber = 1;
  /** Kinds of failure already reported and not yet recovered from. */
  readonly #failing = new Set<"write" | "rotate" | "compress">();
  #isClosed = false;
  #lastIdentityCheckMs = Number.NEGATIVE_INFINITY;
  #compressions: Promise<void> = Promise.resolve();
  /** The agent's user id, learned when the folder is first checked. */
  #uid: number | undefined;

  private constructor(options: RotatingFileOptions) {
    this.#options = options;
    this.#path = `${options.directory}/${options.fileName}`;
    this.#archiveDirectory = `${options.directory}/${ARCHIVE_FOLDER}`;
    this.#archivePattern = new RegExp(
      `^${escapeRegExp(options.fileName)}\\.(\\d+)(\\.gz(\\.tmp)?)?$`,
    );
  }

  /**
   * Creates the folder and opens (or creates) the current file, appending to
   * what is there. Throws the file system's error when either fails, and
   * `LogFolderError` for a folder or archive folder others may write to, or
   * a link where the file should be.
   */
  static open(options: RotatingFileOptions): RotatingFile {
    const rotating = new RotatingFile(options);
    rotating.#openCurrent();
    try {
      if (lstatOrUndefined(rotating.#archiveDirectory) !== undefined) {
        rotating.#ensureFolder(rotating.#archiveDirectory);
      }
      rotating.#recoverArchives();
    } catch (error) {
      if (error instanceof LogFolderError) {
        rotating.#dropFile();
        throw error;
      }
      // The current file works: log on, and rotation will retry the archive.
      rotating.#report(
        "rotate",
        `cannot check the log archives in ${rotating.#archiveDirectory}`,
        error,
      );
    }
    return rotating;
  }

  /** Where the current file is. */
  get path(): string {
    return this.#path;
  }

  /**
   * Appends `bytes` (whole lines), rotating first if needed. Returns false,
   * never throws, when they could not be written; the first failure of a run
   * of failures is reported, and the next call tries to re-create the folder
   * and the file.
   */
  write(bytes: Uint8Array): boolean {
    if (this.#isClosed) return false;
    try {
      this.#checkIdentity();
      if (this.#file === undefined) this.#openCurrent();
      if (
        this.#sizeBytes > 0 &&
        this.#sizeBytes + bytes.length > this.#options.maxBytes
      ) {
        this.#tryRotate();
        // A failed rotation keeps appending to the current file: no line lost.
        if (this.#file === undefined) this.#openCurrent();
      }
      // Count as bytes land: a partial write still grew the file.
      writeAll(this.#file!, bytes, (written) => this.#sizeBytes += written);
      this.#failing.delete("write");
      return true;
    } catch (error) {
      this.#dropFile();
      this.#report("write", `cannot write the log file ${this.#path}`, error);
      return false;
    }
  }

  /** Closes the file and waits for pending compressions; later writes are dropped. */
  async close(): Promise<void> {
    if (this.#isClosed) return await this.#compressions;
    this.#isClosed = true;
    this.#dropFile();
    await this.#compressions;
  }

  #openCurrent(): void {
    this.#ensureFolder(this.#options.directory);
    const { file, isCreated } = openForAppend(this.#path, FILE_MODE);
    try {
      // The umask may have narrowed the mode; the log must be owner-only.
      if (isCreated) chmodOpenFile(file, this.#path, FILE_MODE);
      const stat = file.statSync();
      this.#sizeBytes = stat.size;
      // A crash may have left half a line: end it so the next line is whole.
      if (stat.size > 0 && lastByte(file, stat.size) !== NEWLINE) {
        writeAll(file, new Uint8Array([NEWLINE]), (n) => this.#sizeBytes += n);
      }
    } catch (error) {
      file.close();
      throw error;
    }
    this.#file = file;
    this.#lastIdentityCheckMs = this.#options.nowMs();
  }

  #ensureFolder(path: string): void {
    this.#uid = ensureLogFolder(path, {
      uid: this.#uid,
      onNotice: (message) => {
        try {
          this.#options.reportNotice?.(message);
        } catch {
          // A notice is not worth a failed write.
        }
      },
    });
  }

  /** Notices a deleted or replaced file (e.g. the folder was removed) and reopens. */
  #checkIdentity(): void {
    if (this.#file === undefined) return;
    const nowMs = this.#options.nowMs();
    if (nowMs - this.#lastIdentityCheckMs < IDENTITY_CHECK_INTERVAL_MS) return;
    this.#lastIdentityCheckMs = nowMs;
    let isStillOpen: boolean;
    try {
      // lstat: a link put in the file's place is not the file.
      const onDisk = Deno.lstatSync(this.#path);
      isStillOpen = onDisk.isFile && isSameFile(onDisk, this.#file.statSync());
    } catch (error) {
      // Only a path that no longer leads to a file means reopen; other stat
      // errors (permissions) keep the handle that still works.
      isStillOpen = !(error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory);
    }
    if (!isStillOpen) this.#dropFile();
  }

  #tryRotate(): void {
    try {
      this.#rotate();
      this.#failing.delete("rotate");
    } catch (error) {
      this.#report("rotate", `cannot rotate the log file ${this.#path}`, error);
    }
  }

  #rotate(): void {
    this.#dropFile();
    if (this.#options.maxFiles === 0) {
      removeIfPresent(this.#path);
      return;
    }
    this.#ensureFolder(this.#archiveDirectory);
    const archiveNumber = this.#nextArchiveNumber;
    try {
      Deno.renameSync(this.#path, this.#archivePath(archiveNumber));
    } catch (error) {
      // Gone already: nothing to archive, the caller opens a fresh file.
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    this.#nextArchiveNumber += 1;
    this.#enqueueCompression(archiveNumber);
    this.#prune();
  }

  /** At start: continue the numbering, finish what a crash interrupted, prune. */
  #recoverArchives(): void {
    const archives = this.#listArchives();
    for (const [archiveNumber, names] of archives) {
      this.#nextArchiveNumber = Math.max(
        this.#nextArchiveNumber,
        archiveNumber + 1,
      );
      const plain = this.#archivePath(archiveNumber);
      if (names.has(`${plain}.gz.tmp`)) removeIfPresent(`${plain}.gz.tmp`);
      if (!names.has(plain)) continue;
      // A complete .gz next to its plain file: the crash came after the rename.
      if (names.has(`${plain}.gz`)) removeIfPresent(plain);
      else this.#enqueueCompression(archiveNumber);
    }
    this.#prune();
  }

  /** Archive number -> paths present for it (plain, .gz, .gz.tmp). */
  #listArchives(): Map<number, Set<string>> {
    const archives = new Map<number, Set<string>>();
    let entries: Iterable<Deno.DirEntry>;
    try {
      entries = Deno.readDirSync(this.#archiveDirectory);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return archives;
      throw error;
    }
    for (const entry of entries) {
      const match = this.#archivePattern.exec(entry.name);
      if (match === null || !entry.isFile) continue;
      const archiveNumber = Number(match[1]);
      const names = archives.get(archiveNumber) ?? new Set<string>();
      names.add(`${this.#archiveDirectory}/${entry.name}`);
      archives.set(archiveNumber, names);
    }
    return archives;
  }

  #prune(): void {
    const archives = this.#listArchives();
    const newestFirst = [...archives.keys()].sort((a, b) => b - a);
    for (const archiveNumber of newestFirst.slice(this.#options.maxFiles)) {
      for (const path of archives.get(archiveNumber)!) removeIfPresent(path);
    }
  }

  #enqueueCompression(archiveNumber: number): void {
    this.#compressions = this.#compressions.then(() =>
      this.#compress(archiveNumber)
    );
  }

  async #compress(archiveNumber: number): Promise<void> {
    const plain = this.#archivePath(archiveNumber);
    const temporary = `${plain}.gz.tmp`;
    try {
      let file: Deno.FsFile;
      try {
        file = openForRead(plain);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return; // pruned meanwhile
        throw error;
      }
      let compressed: Uint8Array;
      try {
        compressed = await gzip(file);
      } finally {
        file.close();
      }
      // From here on synchronous: no write or prune can interleave.
      if (lstatOrUndefined(plain) === undefined) return; // pruned meanwhile
      writeTemporary(temporary, compressed);
      Deno.renameSync(temporary, `${plain}.gz`);
      Deno.removeSync(plain);
      this.#failing.delete("compress");
    } catch (error) {
      try {
        // What was there before is not ours to remove.
        if (!(error instanceof LogFolderError)) removeIfPresent(temporary);
      } catch {
        // Reported below; the plain archive is kept either way.
      }
      this.#report(
        "compress",
        `cannot compress the log archive ${plain}`,
        error,
      );
    }
  }

  #archivePath(archiveNumber: number): string {
    return `${this.#archiveDirectory}/${this.#options.fileName}.${archiveNumber}`;
  }

  #dropFile(): void {
    const file = this.#file;
    this.#file = undefined;
    try {
      file?.close();
    } catch {
      // Already unusable; the next write opens a new handle.
    }
  }

  /** Reports the first failure of each kind until that kind works again. */
  #report(
    kind: "write" | "rotate" | "compress",
    what: string,
    error: unknown,
  ): void {
    if (this.#failing.has(kind)) return;
    this.#failing.add(kind);
    const reason = error instanceof Error ? error.message : String(error);
    const consequence = kind === "write"
      ? "log lines are dropped until it works again"
      : kind === "rotate"
      ? "logging continues in the current file"
      : "the archive is kept uncompressed";
    try {
      this.#options.reportError(
        `Logging: ${what}: ${firstLine(reason)} (${consequence})`,
      );
    } catch {
      // Nowhere left to report to.
    }
  }
}

/** Bytes handed to the gzip stream between two turns of the event loop. */
const GZIP_CHUNK_BYTES = 64 * 1024;

/**
 * Compresses the rest of `file` with the platform's gzip stream, a chunk per
 * event-loop turn: a whole 10 MB file at once would hold every request for
 * tens of milliseconds, and would sit in memory twice.
 */
async function gzip(file: Deno.FsFile): Promise<Uint8Array> {
  const compression = new CompressionStream("gzip");
  const output = new Response(compression.readable).arrayBuffer();
  const writer = compression.writable.getWriter();
  try {
    for (;;) {
      const chunk = new Uint8Array(GZIP_CHUNK_BYTES);
      const read = await file.read(chunk);
      if (read === null) break;
      await writer.write(chunk.subarray(0, read));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await writer.close();
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  }
  return new Uint8Array(await output);
}

function writeAll(
  file: Deno.FsFile,
  bytes: Uint8Array,
  onWritten: (count: number) => void,
): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = file.writeSync(bytes.subarray(offset));
    onWritten(written);
    offset += written;
  }
}

function lastByte(file: Deno.FsFile, size: number): number | undefined {
  const buffer = new Uint8Array(1);
  file.seekSync(size - 1, Deno.SeekMode.Start);
  const read = file.readSync(buffer);
  return read === 1 ? buffer[0] : undefined;
}

/** Writes `bytes` to the new file `path` (never through a link), removing it on failure. */
function writeTemporary(path: string, bytes: Uint8Array): void {
  const file = createFile(path, FILE_MODE);
  try {
    chmodOpenFile(file, path, FILE_MODE);
    writeAll(file, bytes, () => {});
  } catch (error) {
    file.close();
    removeIfPresent(path);
    throw error;
  }
  file.close();
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
