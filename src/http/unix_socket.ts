/**
 * The agent's Unix domain socket file. It is bound at `<path>.new/socket`,
 * in a folder only the agent may enter, given the configured mode, then
 * renamed over `<path>`: no other user can connect before the mode applies,
 * and a socket bound again after it was closed under the agent replaces the
 * file atomically. A socket at `<path>` that still answers belongs to
 * another process and is left alone; one that does not is a leftover and is
 * replaced.
 *
 * @module
 */

import { ListenError, type UnixSocketOptions } from "./listener.ts";
import { firstLine, grantHint } from "../failure_text.ts";

/** The socket file at `path`: bound in a private folder, then moved into place. */
export class UnixSocketFile {
  readonly #socket: UnixSocketOptions;
  /** The inode of the file this agent last put at `path`. */
  #inode: number | null = null;

  /** Nothing is bound until {@link bind}. */
  constructor(socket: UnixSocketOptions) {
    this.#socket = socket;
  }

  /** Binds a new socket and moves it into place; a failure is a {@link ListenError}. */
  bind(): Deno.UnixListener {
    const { path, mode } = this.#socket;
    const staging = stagingPaths(path);
    let listener: Deno.UnixListener | undefined;
    try {
      removeStaging(staging);
      // Bound in a folder only the agent may enter, then given its mode: no
      // other user can connect before the mode applies (a umask would need
      // Deno's whole sys grant, which --allow-sys cannot scope to it).
      Deno.mkdirSync(staging.folder, { mode: 0o700 });
      Deno.chmodSync(staging.folder, 0o700);
      listener = Deno.listen({ path: staging.socket, transport: "unix" });
      Deno.chmodSync(staging.socket, mode);
      this.#inode = Deno.statSync(staging.socket).ino;
      Deno.renameSync(staging.socket, path);
      Deno.removeSync(staging.folder);
    } catch (error) {
      listener?.close();
      throw new ListenError(unixFailure(error, path), { cause: error });
    }
    return listener;
  }

  /** Removes the file if it is still the one this agent bound. */
  remove(): void {
    try {
      if (Deno.lstatSync(this.#socket.path).ino === this.#inode) {
        Deno.removeSync(this.#socket.path);
      }
    } catch {
      // Already gone.
    }
  }
}

/** A socket file that accepts connections belongs to a running process. */
export async function refuseLiveSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw new ListenError(unixFailure(error, path), { cause: error });
  }
  if (!info.isSocket) {
    throw new ListenError(
      `Could not listen on unix:${path}: the path exists and is not a socket`,
    );
  }
  let connection: Deno.UnixConn | undefined;
  try {
    connection = await Deno.connect({ transport: "unix", path });
  } catch {
    return;
  }
  connection.close();
  throw new ListenError(
    `Could not listen on unix:${path}: another process is serving on it`,
  );
}

/** Where the socket is bound before it is moved to `path`. */
export function stagingPaths(path: string): { folder: string; socket: string } {
  return { folder: `${path}.new`, socket: `${path}.new/socket` };
}

/** Clears what an earlier run may have left at the staging paths. */
function removeStaging(staging: { folder: string; socket: string }): void {
  try {
    if (Deno.lstatSync(staging.folder).isDirectory) {
      removeIfSocket(staging.socket);
      Deno.removeSync(staging.folder);
    } else {
      removeIfSocket(staging.folder);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function removeIfSocket(path: string): void {
  try {
    if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function unixFailure(error: unknown, path: string): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `Could not listen on unix:${path}: the sandbox does not grant it (${
      grantHint(
        `--allow-net=unix:${path},unix:${path}.new/socket --allow-read=${path},${path}.new --allow-write=${path},${path}.new`,
      )
    })`;
  }
  if (error instanceof Deno.errors.NotFound) {
    return `Could not listen on unix:${path}: its directory does not exist`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `Could not listen on unix:${path}: permission denied`;
  }
  return `Could not listen on unix:${path}: ${firstLine(error)}`;
}
