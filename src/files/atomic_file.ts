/**
 * A file replaced atomically: readers see the old content or the new, never
 * a part. The new content goes to a temporary file in the destination's own
 * folder (same file system, so the rename is atomic), created exclusively
 * (`O_CREAT|O_EXCL` never follows a link and never opens a file someone
 * planted) with the target mode from the start, written, flushed to disk
 * (fsync), then renamed over the destination, and the folder is flushed
 * too so the rename survives a crash. A destination that is a symbolic link
 * (or anything but a regular file) is refused: Deno checks its grants
 * against the path as written, so writing through a link could land outside
 * them. On any failure the temporary file is removed and the destination is
 * left as it was.
 *
 * @module
 */

import { firstLine, grantHint } from "../failure_text.ts";

/** A file that could not be replaced; `message` is one line saying why. */
export class FileWriteError extends Error {
  /** `message` says why, without the content. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FileWriteError";
  }
}

/** Options of {@linkcode writeFileAtomically}. */
export interface WriteFileAtomicallyOptions {
  /** The permission bits of the new file. */
  readonly mode: number;
}

/**
 * Replaces `path` with `data`. Throws {@linkcode FileWriteError} when the
 * destination is refused or a step fails; nothing is left behind then.
 *
 * @example
 * ```ts ignore
 * await writeFileAtomically("/run/secrets/db_password", bytes, { mode: 0o600 });
 * ```
 */
export async function writeFileAtomically(
  path: string,
  data: Uint8Array,
  options: WriteFileAtomicallyOptions,
): Promise<void> {
  const folder = folderOf(path);
  const temporary = temporaryPath(path);
  let file: Deno.FsFile | undefined;
  let isCreated = false;
  try {
    await refuseUnlessRegularFile(path);
    file = await Deno.open(temporary, {
      write: true,
      createNew: true,
      mode: options.mode,
    });
    isCreated = true;
    await setMode(file, temporary, options.mode);
    await writeAll(file, data);
    await file.sync();
    file.close();
    file = undefined;
    await Deno.rename(temporary, path);
  } catch (error) {
    file?.close();
    // Only what this call created: a name someone else holds is theirs.
    if (isCreated) await removeIfThere(temporary);
    throw error instanceof FileWriteError
      ? error
      : new FileWriteError(describe(error, folder), { cause: error });
  }
  await syncFolder(folder);
}

/** The folder of an absolute path: `/` for a file at the root. */
export function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * A fresh name beside `path`: hidden, so globs such as `*.json` skip it, and
 * random, so a name left by a killed agent is never in the way.
 */
function temporaryPath(path: string): string {
  const slash = path.lastIndexOf("/");
  const suffix = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  return `${path.slice(0, slash)}/.${path.slice(slash + 1)}.${suffix}.tmp`;
}

async function refuseUnlessRegularFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isSymlink) {
    throw new FileWriteError(
      "the path is a symbolic link, which the agent never writes through: remove it, or give the real file's path",
    );
  }
  if (!info.isFile) {
    throw new FileWriteError(
      "the path is not a regular file (a folder, say), which the agent does not replace",
    );
  }
}

/**
 * The umask may have taken bits off the mode the file was created with; put
 * them back. Deno has no `fchmod`, so this goes by path: only when needed,
 * and checked against the open handle afterwards, so a file swapped in
 * meanwhile is caught before anything is written.
 */
async function setMode(
  file: Deno.FsFile,
  path: string,
  mode: number,
): Promise<void> {
  const created = await file.stat();
  if (created.mode === null || (created.mode & 0o7777) === mode) return;
  await checkSameFile(file, path);
  await Deno.chmod(path, mode);
  const opened = await checkSameFile(file, path);
  if (((opened.mode ?? 0) & 0o7777) !== mode) {
    throw new FileWriteError(
      `the temporary file's mode could not be set to ${mode.toString(8)}`,
    );
  }
}

/** The handle's file info, once `path` is known to still name that very file. */
async function checkSameFile(
  file: Deno.FsFile,
  path: string,
): Promise<Deno.FileInfo> {
  const [opened, named] = await Promise.all([file.stat(), Deno.lstat(path)]);
  if (opened.ino !== named.ino || opened.dev !== named.dev) {
    throw new FileWriteError(
      "the temporary file was replaced while its mode was set; is another process writing in the folder?",
    );
  }
  return opened;
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    written += await file.write(data.subarray(written));
  }
}

/** Flushes the folder's entry for the renamed file; a failure here loses no data, so it is not one. */
async function syncFolder(folder: string): Promise<void> {
  try {
    using handle = await Deno.open(folder, { read: true });
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the rename has happened.
  }
}

async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Never created, or already gone.
  }
}

function describe(error: unknown, folder: string): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `the sandbox does not grant the folder ${folder} (${
      grantHint(`--allow-read=${folder} --allow-write=${folder}`)
    })`;
  }
  if (error instanceof Deno.errors.NotFound) {
    return `the folder ${folder} does not exist`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `permission denied in the folder ${folder}`;
  }
  return firstLine(error);
}
