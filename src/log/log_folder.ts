/**
 * The log folder's safety checks, and the opening of files inside it without
 * following symbolic links.
 *
 * Deno checks its write grant against the path as written and does not
 * resolve symbolic links inside a granted folder, so a link planted in the
 * log folder (`logs/archive/<name>.1.gz.tmp -> /etc/...`) would let a log
 * write land anywhere the agent's user may write. Two defences:
 *
 * - The folder (and its `archive` folder) must be a real folder, owned by the
 *   agent's user, and writable by nobody else: then no one else can have put
 *   a link in it. A folder writable by group or others, or owned by another
 *   user, is refused ({@linkcode LogFolderError}): tightening its mode would
 *   not undo what others may already have planted. A folder only readable by
 *   others (`mkdir logs` under umask 022 gives 0755) is set to 0700, since
 *   nobody else can have written in it; the caller is told, to log it.
 * - Every file is opened without following a link: new files with
 *   `createNew` (`O_CREAT|O_EXCL` does not follow a link at the last
 *   component, and fails on an existing one); an existing log file after an
 *   `lstat` that says it is a regular file, and a check that the opened
 *   handle is that same file, so a link swapped in between is caught before
 *   anything is written (opening for append truncates nothing).
 *
 * Deno 2.9 gives no `Deno.uid()` without `--allow-sys=uid`, which the agent
 * is not granted; the agent's user is learned from a folder it just created
 * or from a probe file it creates (and removes) in a folder no one else can
 * write to. On Windows there are no modes or owners to check; links are
 * still refused.
 *
 * @module
 */

/** A log folder or file the agent refuses to write into; `message` says why and what to do. */
export class LogFolderError extends Error {
  /** `message` is one line naming the path. */
  constructor(message: string) {
    super(message);
    this.name = "LogFolderError";
  }
}

/** Options of {@linkcode ensureLogFolder}. */
export interface EnsureLogFolderOptions {
  /** The agent's user id, when already known (undefined: learn it here). */
  readonly uid?: number;
  /** Receives one line when an existing folder's mode was tightened to 0700. */
  readonly onNotice?: (message: string) => void;
}

const FOLDER_MODE = 0o700;
const IS_WINDOWS = Deno.build.os === "windows";
/** Write bits of group and others. */
const WRITABLE_BY_OTHERS = 0o022;

/**
 * Creates `path` (mode 0700, parents too) when missing, checks it when it is
 * there, and returns the agent's user id (undefined on Windows). Throws
 * {@linkcode LogFolderError} for a link, a folder others may write to or one
 * another user owns; `Deno.errors.NotADirectory` when a file is in the way.
 */
export function ensureLogFolder(
  path: string,
  options: EnsureLogFolderOptions = {},
): number | undefined {
  let info = lstatOrUndefined(path);
  let isCreated = false;
  if (info === undefined) {
    isCreated = createFolder(path);
    info = Deno.lstatSync(path);
  }
  if (info.isSymlink) {
    throw new LogFolderError(
      `the log folder ${path} is a symbolic link; the agent writes only into a real folder: replace it with one (mode 0700)`,
    );
  }
  if (!info.isDirectory) {
    throw new Deno.errors.NotADirectory(`Not a directory: ${path}`);
  }
  if (IS_WINDOWS || info.mode === null || info.uid === null) return undefined;
  const mode = info.mode & 0o7777;
  if ((mode & WRITABLE_BY_OTHERS) !== 0) {
    throw new LogFolderError(
      `the log folder ${path} is writable by other users (mode ${
        octal(mode)
      }), who may have planted links in it: check what it holds, then chmod 700 ${path}`,
    );
  }
  // A folder we just made is ours: its owner is our user.
  const uid = options.uid ?? (isCreated ? info.uid : probeUid(path));
  if (info.uid !== uid) {
    throw new LogFolderError(
      `the log folder ${path} is owned by uid ${info.uid}, not by the agent's user (uid ${uid}): chown it to the agent's user, or remove it for the agent to create`,
    );
  }
  if (mode !== FOLDER_MODE) {
    Deno.chmodSync(path, FOLDER_MODE);
    if (!isCreated) {
      options.onNotice?.(
        `The log folder ${path} was mode ${octal(mode)}; it is now 0700`,
      );
    }
  }
  return uid;
}

/**
 * Opens `path` for appending (and reading), creating it with `mode` when
 * missing, never through a symbolic link. Returns the handle and whether the
 * file was created. Throws {@linkcode LogFolderError} for a link or anything
 * but a regular file in its place.
 */
export function openForAppend(
  path: string,
  mode: number,
): { file: Deno.FsFile; isCreated: boolean } {
  try {
    const file = Deno.openSync(path, {
      read: true,
      append: true,
      createNew: true,
      mode,
    });
    return { file, isCreated: true };
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const expected = checkedRegularFile(path, "the log file");
  const file = Deno.openSync(path, { read: true, append: true });
  return { file: sameFileOrClose(file, expected, path), isCreated: false };
}

/** Opens the existing regular file `path` for reading, never through a symbolic link. */
export function openForRead(path: string): Deno.FsFile {
  const expected = checkedRegularFile(path, "the log archive");
  const file = Deno.openSync(path, { read: true });
  return sameFileOrClose(file, expected, path);
}

/**
 * Creates `path` with `mode` for writing; anything already there, a link
 * included, is refused with {@linkcode LogFolderError} and left as it is.
 */
export function createFile(path: string, mode: number): Deno.FsFile {
  try {
    return Deno.openSync(path, { write: true, createNew: true, mode });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    const what = lstatOrUndefined(path)?.isSymlink
      ? "a symbolic link"
      : "a file";
    throw new LogFolderError(
      `${path} already exists as ${what}; the agent writes only into files it creates: remove it`,
    );
  }
}

/**
 * Sets `file`'s mode through `path`, only while `path` still names it
 * (Deno has no `fchmod`); an existing file keeps its mode otherwise.
 */
export function chmodOpenFile(
  file: Deno.FsFile,
  path: string,
  mode: number,
): void {
  if (IS_WINDOWS) return;
  const open = file.statSync();
  if (open.mode === null || (open.mode & 0o777) === mode) return;
  const onDisk = Deno.lstatSync(path);
  if (onDisk.isFile && isSameFile(onDisk, open)) Deno.chmodSync(path, mode);
}

/** Whether two stats describe the same file (device and inode). */
export function isSameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/** The `lstat` of `path`, or undefined when nothing is there. */
export function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function checkedRegularFile(path: string, what: string): Deno.FileInfo {
  const info = Deno.lstatSync(path);
  if (info.isSymlink) {
    throw new LogFolderError(
      `${what} ${path} is a symbolic link; the agent does not write through links: remove it`,
    );
  }
  if (!info.isFile) {
    throw new LogFolderError(`${what} ${path} is not a regular file`);
  }
  return info;
}

function sameFileOrClose(
  file: Deno.FsFile,
  expected: Deno.FileInfo,
  path: string,
): Deno.FsFile {
  let isSame: boolean;
  try {
    isSame = isSameFile(file.statSync(), expected);
  } catch (error) {
    file.close();
    throw error;
  }
  if (isSame) return file;
  file.close();
  throw new LogFolderError(
    `${path} was replaced while the agent opened it; it is left as it is`,
  );
}

/** Creates `path` (and missing parents) with mode 0700; false when another process made it first. */
function createFolder(path: string): boolean {
  try {
    Deno.mkdirSync(path, { mode: FOLDER_MODE });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(path, { recursive: true, mode: FOLDER_MODE });
  return true;
}

/** The owner of a file this process creates in `folder`: the agent's user. */
function probeUid(folder: string): number {
  const path = `${folder}/.owner-probe-${crypto.randomUUID()}`;
  const file = Deno.openSync(path, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    return file.statSync().uid!;
  } finally {
    file.close();
    Deno.removeSync(path);
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
