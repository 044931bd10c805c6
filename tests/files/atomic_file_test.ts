/**
 * writeFileAtomically: a temporary file in the destination's folder, created
 * exclusively with the mode, written, fsynced and renamed over the path;
 * links and folders at the path refused; nothing left behind on failure.
 */

import assert from "node:assert/strict";
import {
  FileWriteError,
  folderOf,
  writeFileAtomically,
} from "../../src/files/atomic_file.ts";

const WRITER = new URL("./_write_file.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

function hasStrace(): boolean {
  try {
    return new Deno.Command("strace", { args: ["-V"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function withFolder(test: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "atomic-file-" });
  try {
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map(({ name }) => name)
    .sort();
}

/** `deno run <flags> _write_file.ts <path> <mode> <text>`, under `sh -c` when a prefix is given. */
async function writeInProcess(
  path: string,
  mode: string,
  text: string,
  options: { flags?: string[]; shellPrefix?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const deno = [
    Deno.execPath(),
    "run",
    "--no-prompt",
    ...(options.flags ?? ["--allow-read", "--allow-write"]),
    WRITER,
    path,
    mode,
    text,
  ];
  const command = options.shellPrefix === undefined
    ? new Deno.Command(deno[0], { args: deno.slice(1) })
    : new Deno.Command("sh", {
      args: ["-c", `${options.shellPrefix} "$@"`, "sh", ...deno],
    });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

Deno.test("a new file gets the content and the mode, and the folder holds nothing else", async () => {
  await withFolder(async (dir) => {
    await writeFileAtomically(`${dir}/db`, encoder.encode("s3cret"), {
      mode: 0o600,
    });
    await writeFileAtomically(`${dir}/shared`, encoder.encode("s"), {
      mode: 0o440,
    });
    assert.equal(await Deno.readTextFile(`${dir}/db`), "s3cret");
    assert.equal((await Deno.lstat(`${dir}/db`)).mode! & 0o7777, 0o600);
    assert.equal((await Deno.lstat(`${dir}/shared`)).mode! & 0o7777, 0o440);
    assert.deepEqual(await names(dir), ["db", "shared"]);
  });
});

Deno.test("an existing file is replaced whole: a reader holding the old one keeps reading the old content", async () => {
  await withFolder(async (dir) => {
    const path = `${dir}/db`;
    await writeFileAtomically(path, encoder.encode("old"), { mode: 0o600 });
    const before = await Deno.lstat(path);
    using reader = await Deno.open(path);
    await writeFileAtomically(path, encoder.encode("new value"), {
      mode: 0o600,
    });
    assert.equal(await Deno.readTextFile(path), "new value");
    assert.notEqual((await Deno.lstat(path)).ino, before.ino);
    const buffer = new Uint8Array(16);
    const read = await reader.read(buffer);
    assert.equal(new TextDecoder().decode(buffer.subarray(0, read!)), "old");
    assert.deepEqual(await names(dir), ["db"]);
  });
});

Deno.test({
  name:
    "the content goes to a hidden temporary file in the same folder, created exclusively with the mode, written and fsynced before it is renamed over the path",
  ignore: !hasStrace(),
  async fn() {
    await withFolder(async (dir) => {
      const trace = `${dir}.trace`;
      try {
        const result = await writeInProcess(`${dir}/db`, "0640", "s3cret", {
          shellPrefix:
            `umask 022; exec strace -f -qq -e trace=openat,write,fsync,rename,renameat,renameat2,chmod,fchmodat -o '${trace}'`,
        });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const lines = (await Deno.readTextFile(trace)).split("\n");
        const at = (pattern: RegExp) => {
          const index = lines.findIndex((line) => pattern.test(line));
          assert.ok(index >= 0, `no ${pattern} in:\n${lines.join("\n")}`);
          return index;
        };
        const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        const temporary = `${escaped}/\\.db\\.[0-9a-f]{16}\\.tmp`;
        const created = at(
          new RegExp(
            `openat\\(AT_FDCWD, "${temporary}", O_WRONLY\\|O_CREAT\\|O_EXCL(\\|O_NOFOLLOW)?\\|O_CLOEXEC, 0640\\b`,
          ),
        );
        const written = at(/write\(\d+, "s3cret", 6\b/);
        const synced = lines.findIndex((line, index) =>
          index > written && /fsync\(\d+/.test(line)
        );
        const renamed = at(
          new RegExp(`rename(at2?)?\\(.*"${temporary}", .*"${escaped}/db"`),
        );
        assert.ok(created < written, "created before written");
        assert.ok(written < synced && synced < renamed, "fsync before rename");
        assert.ok(
          !lines.some((line) => /chmod/.test(line)),
          "no chmod when the umask keeps the mode",
        );
        assert.equal(await Deno.readTextFile(`${dir}/db`), "s3cret");
      } finally {
        await Deno.remove(trace).catch(() => {});
      }
    });
  },
});

Deno.test("a umask that takes bits off the mode: they are put back before the file is renamed into place", async () => {
  await withFolder(async (dir) => {
    const result = await writeInProcess(`${dir}/db`, "0640", "s3cret", {
      shellPrefix: "umask 077; exec",
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal((await Deno.lstat(`${dir}/db`)).mode! & 0o7777, 0o640);
    assert.deepEqual(await names(dir), ["db"]);
  });
});

Deno.test("a symbolic link at the path is refused and left as it is; nothing is written through it", async () => {
  await withFolder(async (dir) => {
    await Deno.writeTextFile(`${dir}/target`, "untouched");
    await Deno.symlink(`${dir}/target`, `${dir}/db`);
    await assert.rejects(
      writeFileAtomically(`${dir}/db`, encoder.encode("s3cret"), {
        mode: 0o600,
      }),
      (error: unknown) => {
        assert.ok(error instanceof FileWriteError);
        assert.equal(
          error.message,
          "the path is a symbolic link, which the agent never writes through: remove it, or give the real file's path",
        );
        return true;
      },
    );
    assert.equal(await Deno.readTextFile(`${dir}/target`), "untouched");
    assert.ok((await Deno.lstat(`${dir}/db`)).isSymlink);
    assert.deepEqual(await names(dir), ["db", "target"]);
  });
});

Deno.test("a folder at the path is refused", async () => {
  await withFolder(async (dir) => {
    await Deno.mkdir(`${dir}/db`);
    await assert.rejects(
      writeFileAtomically(`${dir}/db`, encoder.encode("s3cret"), {
        mode: 0o600,
      }),
      FileWriteError,
      "the path is not a regular file (a folder, say), which the agent does not replace",
    );
    assert.deepEqual(await names(dir), ["db"]);
  });
});

Deno.test("a missing folder is one line naming it, and nothing is created", async () => {
  await withFolder(async (dir) => {
    await assert.rejects(
      writeFileAtomically(`${dir}/absent/db`, encoder.encode("s3cret"), {
        mode: 0o600,
      }),
      (error: unknown) => {
        assert.ok(error instanceof FileWriteError);
        assert.equal(error.message, `the folder ${dir}/absent does not exist`);
        return true;
      },
    );
    assert.deepEqual(await names(dir), []);
  });
});

Deno.test("a failure once the temporary file exists removes it and leaves the old file: a sandbox that grants the creation but not the rename", async () => {
  await withFolder(async (dir) => {
    await Deno.writeTextFile(`${dir}/db`, "last good");
    // Read of the path only: the temporary file can be created and
    // written, but not renamed (Deno asks read and write of both names).
    const result = await writeInProcess(`${dir}/db`, "0600", "s3cret", {
      flags: [`--allow-read=${dir}/db`, `--allow-write=${dir}`],
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^the sandbox does not grant the folder ${dir} \\(--allow-read=`,
      ),
    );
    assert.equal(await Deno.readTextFile(`${dir}/db`), "last good");
    assert.deepEqual(await names(dir), ["db"]);
  });
});

Deno.test("folderOf is the path's folder, / for a file at the root", () => {
  assert.equal(folderOf("/run/secrets/db"), "/run/secrets");
  assert.equal(folderOf("/db"), "/");
});
