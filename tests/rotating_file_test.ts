import assert from "node:assert/strict";
import {
  RotatingFile,
  type RotatingFileOptions,
} from "../src/rotating_file.ts";

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
