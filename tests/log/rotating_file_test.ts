import assert from "node:assert/strict";
import { LogFolderError } from "../../src/log/log_folder.ts";
import {
  RotatingFile,
  type RotatingFileOptions,
} from "../../src/log/rotating_file.ts";

const encoder = new TextEncoder();
const FILE_NAME = "agent.log";

function open(
  directory: string,
  options: Partial<RotatingFileOptions> = {},
): { file: RotatingFile; reports: string[] } {
  const reports: string[] = [];
  const file = RotatingFile.open({
    directory,
    fileName: FILE_NAME,
    maxBytes: 200,
    maxFiles: 5,
    reportError: (message) => reports.push(message),
    nowMs: () => 0,
    ...options,
  });
  return { file, reports };
}

function lineFor(index: number): string {
  return `line ${String(index).padStart(5, "0")} ${"x".repeat(index % 23)}\n`;
}

/** Every file in the log folder and its archive folder, relative names. */
function listFiles(directory: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(directory)) {
    if (entry.isFile) names.push(entry.name);
  }
  try {
    for (const entry of Deno.readDirSync(`${directory}/archive`)) {
      if (entry.isFile) names.push(`archive/${entry.name}`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

async function gunzip(path: string): Promise<string> {
  const file = await Deno.open(path);
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** Archive contents oldest first (by archive number), then the current file. */
async function readAllInOrder(directory: string): Promise<string[]> {
  const archives = listFiles(directory)
    .filter((name) => name.startsWith("archive/"))
    .map((name) => ({
      name,
      number: Number(/\.(\d+)\.gz$/.exec(name)![1]),
    }))
    .sort((a, b) => a.number - b.number);
  const contents: string[] = [];
  for (const archive of archives) {
    contents.push(await gunzip(`${directory}/${archive.name}`));
  }
  contents.push(Deno.readTextFileSync(`${directory}/${FILE_NAME}`));
  return contents;
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

Deno.test("rotation keeps at most five gzipped archives plus the current file, newest lines last and in order", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    const { file, reports } = open(directory);
    const total = 400;
    for (let index = 0; index < total; index++) {
      assert.equal(file.write(encoder.encode(lineFor(index))), true);
      assert.ok(listFiles(directory).length <= 6, `after line ${index}`);
      // Let queued compressions run between some rotations, not all.
      if (index % 17 === 0) await new Promise((done) => setTimeout(done, 0));
    }
    await file.close();
    assert.deepEqual(reports, []);

    const names = listFiles(directory);
    assert.equal(names.length, 6);
    assert.ok(
      names.every((name) =>
        /^(agent\.log|archive\/agent\.log\.\d+\.gz)$/.test(name)
      ),
      names.join(),
    );
    const contents = await readAllInOrder(directory);
    for (const content of contents) {
      assert.ok(encoder.encode(content).length <= 200);
      assert.ok(content.endsWith("\n"));
    }
    const lines = contents.join("").split("\n").slice(0, -1);
    const expected = Array.from(
      { length: total },
      (_, i) => lineFor(i).slice(0, -1),
    );
    // What is left is exactly the newest lines, contiguous and in order.
    assert.deepEqual(lines, expected.slice(total - lines.length));
    assert.ok(lines.length < total, "old archives were deleted");
    assert.ok(contents[contents.length - 1].endsWith(lineFor(total - 1)));
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("a restart appends to the existing file and counts its size towards rotation", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    const line = "0123456789abcd\n"; // 15 bytes
    const first = open(directory, { maxBytes: 100 });
    for (let index = 0; index < 5; index++) {
      first.file.write(encoder.encode(line));
    }
    await first.file.close();
    assert.equal(Deno.statSync(`${directory}/${FILE_NAME}`).size, 75);

    const second = open(directory, { maxBytes: 100 });
    second.file.write(encoder.encode(line)); // 90 bytes: fits
    assert.deepEqual(listFiles(directory), [FILE_NAME]);
    second.file.write(encoder.encode("last\n")); // 95: fits
    second.file.write(encoder.encode(line)); // 110 would pass 100: rotates
    await second.file.close();

    assert.deepEqual(listFiles(directory), [
      FILE_NAME,
      "archive/agent.log.1.gz",
    ]);
    assert.equal(
      await gunzip(`${directory}/archive/agent.log.1.gz`),
      line.repeat(6) + "last\n",
    );
    assert.equal(Deno.readTextFileSync(`${directory}/${FILE_NAME}`), line);
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("a restart continues the archive numbering and compresses archives a crash left plain", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${directory}/archive`);
    Deno.writeTextFileSync(
      `${directory}/archive/agent.log.3`,
      "from before the crash\n",
    );
    Deno.writeTextFileSync(
      `${directory}/archive/agent.log.2.gz.tmp`,
      "half written",
    );
    const { file } = open(directory, { maxBytes: 10 });
    file.write(encoder.encode("first line\n"));
    file.write(encoder.encode("second line\n"));
    await file.close();

    assert.deepEqual(listFiles(directory), [
      FILE_NAME,
      "archive/agent.log.3.gz",
      "archive/agent.log.4.gz",
    ]);
    assert.equal(
      await gunzip(`${directory}/archive/agent.log.3.gz`),
      "from before the crash\n",
    );
    assert.equal(
      await gunzip(`${directory}/archive/agent.log.4.gz`),
      "first line\n",
    );
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("a half-written last line from a crash is ended before new lines are appended", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${directory}/${FILE_NAME}`, "complete\nhalf a li");
    const { file } = open(directory);
    file.write(encoder.encode("next\n"));
    await file.close();
    assert.equal(
      Deno.readTextFileSync(`${directory}/${FILE_NAME}`),
      "complete\nhalf a li\nnext\n",
    );
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("archives and the archive folder are owner-only", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    const { file } = open(directory, { maxBytes: 10 });
    file.write(encoder.encode("first line\n"));
    file.write(encoder.encode("second line\n"));
    await file.close();
    assert.equal(mode(`${directory}/archive`), 0o700);
    assert.equal(mode(`${directory}/archive/agent.log.1.gz`), 0o600);
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("with maxFiles 0 rotation starts a new file and keeps no archive", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    const { file } = open(directory, { maxBytes: 10, maxFiles: 0 });
    file.write(encoder.encode("first line\n"));
    file.write(encoder.encode("second line\n"));
    await file.close();
    assert.deepEqual(listFiles(directory), [FILE_NAME]);
    assert.equal(
      Deno.readTextFileSync(`${directory}/${FILE_NAME}`),
      "second line\n",
    );
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("a failed rotation keeps writing to the current file and reports once", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    const { file, reports } = open(directory, { maxBytes: 10 });
    // A file where the archive folder should be makes every rotation fail.
    Deno.writeTextFileSync(`${directory}/archive`, "in the way");
    for (let index = 0; index < 5; index++) {
      assert.equal(file.write(encoder.encode(`line ${index}\n`)), true);
    }
    await file.close();
    assert.equal(reports.length, 1);
    assert.match(
      reports[0],
      /cannot rotate the log file .*logging continues in the current file/,
    );
    assert.equal(
      Deno.readTextFileSync(`${directory}/${FILE_NAME}`),
      "line 0\nline 1\nline 2\nline 3\nline 4\n",
    );
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("a write failure returns false, is reported once, and the next write re-creates the folder", async () => {
  const root = Deno.makeTempDirSync();
  const directory = `${root}/logs`;
  let clockMs = 0;
  try {
    const { file, reports } = open(directory, { nowMs: () => clockMs });
    assert.equal(file.write(encoder.encode("before\n")), true);
    Deno.removeSync(directory, { recursive: true });
    Deno.writeTextFileSync(directory, "a file where the folder was");
    clockMs += 5000;
    assert.equal(file.write(encoder.encode("lost 1\n")), false);
    assert.equal(file.write(encoder.encode("lost 2\n")), false);
    assert.equal(reports.length, 1);
    assert.match(
      reports[0],
      /cannot write the log file .*dropped until it works again/,
    );

    Deno.removeSync(directory);
    assert.equal(file.write(encoder.encode("after\n")), true);
    await file.close();
    assert.equal(Deno.readTextFileSync(`${directory}/${FILE_NAME}`), "after\n");
    assert.equal(mode(directory), 0o700);
    assert.equal(mode(`${directory}/${FILE_NAME}`), 0o600);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("an unreadable archive folder at start is reported and logging goes on", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${directory}/archive`, "in the way");
    const { file, reports } = open(directory);
    assert.equal(file.write(encoder.encode("still logged\n")), true);
    await file.close();
    assert.equal(reports.length, 1);
    assert.match(reports[0], /cannot check the log archives/);
    assert.equal(
      Deno.readTextFileSync(`${directory}/${FILE_NAME}`),
      "still logged\n",
    );
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("writes after close are dropped and close can be called twice", async () => {
  const directory = Deno.makeTempDirSync();
  try {
    const { file } = open(directory);
    file.write(encoder.encode("kept\n"));
    await file.close();
    assert.equal(file.write(encoder.encode("dropped\n")), false);
    await file.close();
    assert.equal(Deno.readTextFileSync(`${directory}/${FILE_NAME}`), "kept\n");
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

// A hostile local user who prepared the folder: see log_folder.ts.

const OUTSIDE_TEXT = "outside the log folder\n";

/** A temp folder holding `logs/` (returned) and a file outside it, for links to point at. */
function withOutside(
  test: (paths: { logs: string; outside: string }) => Promise<void> | void,
): () => Promise<void> {
  return async () => {
    const root = Deno.makeTempDirSync();
    try {
      const outside = `${root}/outside.txt`;
      Deno.writeTextFileSync(outside, OUTSIDE_TEXT);
      const logs = `${root}/logs`;
      Deno.mkdirSync(logs, { mode: 0o700 });
      await test({ logs, outside });
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  };
}

function assertUntouched(outside: string): void {
  const text = Deno.readTextFileSync(outside);
  assert.ok(
    text === OUTSIDE_TEXT,
    `the file outside the log folder was written (${text.length} characters now)`,
  );
}

Deno.test(
  "a log folder others may write to is refused at open, and nothing is created in it",
  withOutside(({ logs }) => {
    Deno.chmodSync(logs, 0o777);
    assert.throws(
      () => open(logs),
      (error: unknown) =>
        error instanceof LogFolderError &&
        error.message ===
          `the log folder ${logs} is writable by other users (mode 0777), who may have planted links in it: check what it holds, then chmod 700 ${logs}`,
    );
    assert.deepEqual([...Deno.readDirSync(logs)], []);
  }),
);

Deno.test(
  "an archive folder others may write to is refused at open",
  withOutside(({ logs }) => {
    Deno.mkdirSync(`${logs}/archive`);
    Deno.chmodSync(`${logs}/archive`, 0o1777);
    assert.throws(
      () => open(logs),
      (error: unknown) =>
        error instanceof LogFolderError &&
        error.message.startsWith(
          `the log folder ${logs}/archive is writable by other users (mode 01777)`,
        ),
    );
  }),
);

Deno.test(
  "a log folder that is a link is refused at open",
  withOutside(({ logs }) => {
    const elsewhere = `${logs}-elsewhere`;
    Deno.mkdirSync(elsewhere, { mode: 0o700 });
    Deno.removeSync(logs);
    Deno.symlinkSync(elsewhere, logs);
    assert.throws(() => open(logs), LogFolderError);
    assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
  }),
);

Deno.test({
  name: "a log folder owned by another user is refused at open",
  // Only root can give a folder away and still be able to write into it.
  ignore: Deno.uid() !== 0,
  fn: withOutside(({ logs }) => {
    Deno.chownSync(logs, 65534, 65534);
    assert.throws(
      () => open(logs),
      (error: unknown) =>
        error instanceof LogFolderError &&
        error.message ===
          `the log folder ${logs} is owned by uid 65534, not by the agent's user (uid 0): chown it to the agent's user, or remove it for the agent to create`,
    );
    assert.deepEqual([...Deno.readDirSync(logs)], []);
  }),
});

Deno.test(
  "a log folder only readable by others is set to 0700, and the change is reported as a notice",
  withOutside(async ({ logs }) => {
    Deno.chmodSync(logs, 0o755);
    const notices: string[] = [];
    const { file, reports } = open(logs, {
      reportNotice: (message) => notices.push(message),
    });
    await file.close();
    assert.equal(mode(logs), 0o700);
    assert.deepEqual(notices, [
      `The log folder ${logs} was mode 0755; it is now 0700`,
    ]);
    assert.deepEqual(reports, []);
  }),
);

Deno.test(
  "a link where the log file should be is refused at open, and its target is not written",
  withOutside(({ logs, outside }) => {
    Deno.symlinkSync(outside, `${logs}/${FILE_NAME}`);
    assert.throws(
      () => open(logs),
      (error: unknown) =>
        error instanceof LogFolderError &&
        error.message ===
          `the log file ${logs}/${FILE_NAME} is a symbolic link; the agent does not write through links: remove it`,
    );
    assertUntouched(outside);
  }),
);

Deno.test(
  "a link put in the log file's place while logging is not written through when the file is reopened",
  withOutside(async ({ logs, outside }) => {
    let clockMs = 0;
    const { file, reports } = open(logs, { nowMs: () => clockMs });
    assert.equal(file.write(encoder.encode("before\n")), true);
    Deno.removeSync(`${logs}/${FILE_NAME}`);
    Deno.symlinkSync(outside, `${logs}/${FILE_NAME}`);
    clockMs += 5000;
    assert.equal(file.write(encoder.encode("after\n")), false);
    await file.close();
    assertUntouched(outside);
    assert.equal(reports.length, 1);
    assert.match(reports[0], /is a symbolic link/);
  }),
);

Deno.test(
  "a link planted at the temporary archive name is refused: its target is not written, the archive is kept plain, nothing is lost",
  withOutside(async ({ logs, outside }) => {
    Deno.mkdirSync(`${logs}/archive`, { mode: 0o700 });
    const temporary = `${logs}/archive/${FILE_NAME}.1.gz.tmp`;
    Deno.symlinkSync(outside, temporary);
    const { file, reports } = open(logs, { maxBytes: 10 });
    file.write(encoder.encode("first line\n"));
    file.write(encoder.encode("second line\n"));
    await file.close();
    assertUntouched(outside);
    assert.ok(Deno.lstatSync(temporary).isSymlink);
    assert.equal(
      Deno.readTextFileSync(`${logs}/archive/${FILE_NAME}.1`),
      "first line\n",
    );
    assert.deepEqual(reports, [
      `Logging: cannot compress the log archive ${logs}/archive/${FILE_NAME}.1: ${temporary} already exists as a symbolic link; the agent writes only into files it creates: remove it (the archive is kept uncompressed)`,
    ]);
  }),
);

Deno.test(
  "an archive folder replaced by a link while logging is refused at rotation: the current file is kept and logging goes on",
  withOutside(async ({ logs }) => {
    const elsewhere = `${logs}-elsewhere`;
    Deno.mkdirSync(elsewhere, { mode: 0o700 });
    const { file, reports } = open(logs, { maxBytes: 10 });
    Deno.symlinkSync(elsewhere, `${logs}/archive`);
    assert.equal(file.write(encoder.encode("first line\n")), true);
    assert.equal(file.write(encoder.encode("second line\n")), true);
    await file.close();
    assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
    assert.equal(
      Deno.readTextFileSync(`${logs}/${FILE_NAME}`),
      "first line\nsecond line\n",
    );
    assert.equal(reports.length, 1);
    assert.match(
      reports[0],
      /cannot rotate the log file .*archive is a symbolic link.*logging continues in the current file/,
    );
  }),
);
