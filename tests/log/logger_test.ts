import assert from "node:assert/strict";
import type { LogLevel } from "../../src/log/log_level.ts";
import {
  consoleLogger,
  type Logger,
  LoggerError,
  openFileLogger,
} from "../../src/log/logger.ts";

const T0 = new Date("2024-01-01T00:00:00.000Z");
const TOKEN = "ssrf-token-4f9c2a7e";

function captured(
  level: LogLevel,
  redactions?: readonly string[],
): { logger: Logger; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const logger = consoleLogger({
    level,
    redactions,
    now: () => T0,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
  });
  return { logger, stdout, stderr };
}

function logEveryLevel(logger: Logger, message = "m"): void {
  logger.debug(`${message} debug`);
  logger.info(`${message} info`);
  logger.warn(`${message} warn`);
  logger.error(`${message} error`);
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

async function withTempDir(run: (root: string) => Promise<void> | void) {
  const root = Deno.makeTempDirSync();
  try {
    await run(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("each level writes itself and the more severe levels; DEBUG/INFO go to stdout, WARN/ERROR to stderr", () => {
  const expected: Record<LogLevel, string[]> = {
    DEBUG: ["debug", "info", "warn", "error"],
    INFO: ["info", "warn", "error"],
    WARN: ["warn", "error"],
    ERROR: ["error"],
    NONE: [],
  };
  for (const [level, written] of Object.entries(expected)) {
    const { logger, stdout, stderr } = captured(level as LogLevel);
    logEveryLevel(logger);
    const name = (line: string) => line.split(" m ")[1];
    assert.deepEqual(
      stdout.map(name),
      written.filter((w) => w === "debug" || w === "info"),
      level,
    );
    assert.deepEqual(
      stderr.map(name),
      written.filter((w) => w === "warn" || w === "error"),
      level,
    );
  }
});

Deno.test("a line is the RFC 3339 UTC time, the level and the message", () => {
  const { logger, stdout, stderr } = captured("DEBUG");
  logger.info("GET /secretsmanager/get?secretId=db 200");
  logger.warn("slow");
  assert.deepEqual(stdout, [
    "2024-01-01T00:00:00.000Z INFO GET /secretsmanager/get?secretId=db 200",
  ]);
  assert.deepEqual(stderr, ["2024-01-01T00:00:00.000Z WARN slow"]);
});

Deno.test("control characters, line separators and bidi overrides are escaped so no line can be forged", () => {
  const { logger, stdout } = captured("INFO");
  logger.info(
    "id=a\n2024-01-01T00:00:00.000Z ERROR forged\r\t\x1b[31m\x00\x7f\x85\u2028\u2029\u202e\\n",
  );
  assert.deepEqual(stdout, [
    "2024-01-01T00:00:00.000Z INFO id=a\\n2024-01-01T00:00:00.000Z ERROR forged" +
    "\\r\\t\\x1b[31m\\x00\\x7f\\x85\\u2028\\u2029\\u202e\\n",
  ]);
});

Deno.test("a forged line attempt stays one line in the log file", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "INFO",
      directory: root,
      now: () => T0,
    });
    logger.info("a\r\nT ERROR forged\u2028b");
    await logger.close();
    const text = Deno.readTextFileSync(`${root}/secrets_manager_agent.log`);
    assert.equal(
      text,
      "2024-01-01T00:00:00.000Z INFO a\\r\\nT ERROR forged\\u2028b\n",
    );
  });
});

Deno.test("the same message logged again is redacted again after a redaction is added", () => {
  const { logger, stdout } = captured("INFO");
  const message = "GET /v1/db?key=AKIAEXAMPLESECRETKEY 200\n";
  logger.info(message);
  logger.info(message);
  logger.addRedaction("AKIAEXAMPLESECRETKEY");
  logger.info(message);
  logger.info(message);
  assert.deepEqual(stdout, [
    "2024-01-01T00:00:00.000Z INFO GET /v1/db?key=AKIAEXAMPLESECRETKEY 200\\n",
    "2024-01-01T00:00:00.000Z INFO GET /v1/db?key=AKIAEXAMPLESECRETKEY 200\\n",
    "2024-01-01T00:00:00.000Z INFO GET /v1/db?key=[REDACTED] 200\\n",
    "2024-01-01T00:00:00.000Z INFO GET /v1/db?key=[REDACTED] 200\\n",
  ]);
});

Deno.test("redacted values never appear, at every level, alone or inside longer text", () => {
  const { logger, stdout, stderr } = captured("DEBUG", [TOKEN]);
  logger.addRedaction("AKIAEXAMPLESECRETKEY");
  logEveryLevel(
    logger,
    `token=${TOKEN};key=xAKIAEXAMPLESECRETKEYx ${TOKEN}${TOKEN}`,
  );
  const lines = [...stdout, ...stderr];
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.ok(!line.includes(TOKEN), line);
    assert.ok(!line.includes("AKIAEXAMPLESECRETKEY"), line);
    assert.match(
      line,
      /token=\[REDACTED\];key=x\[REDACTED\]x \[REDACTED\]\[REDACTED\]/,
    );
  }
});

Deno.test("a value containing another is redacted whole, and a value with a newline is redacted after escaping", () => {
  const { logger, stdout } = captured("INFO", ["abcd", "xxabcdxx"]);
  logger.addRedaction("line1\nline2");
  logger.info("xxabcdxx abcd line1\nline2");
  assert.deepEqual(stdout, [
    "2024-01-01T00:00:00.000Z INFO [REDACTED] [REDACTED] [REDACTED]",
  ]);
});

Deno.test("values shorter than four characters are not redacted", () => {
  const { logger, stdout } = captured("INFO", ["", "a", "abc"]);
  logger.info("a cabbage abc");
  assert.deepEqual(stdout, ["2024-01-01T00:00:00.000Z INFO a cabbage abc"]);
});

Deno.test("the file logger redacts too", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "DEBUG",
      directory: root,
      redactions: [TOKEN],
    });
    logEveryLevel(logger, `Bad Token ${TOKEN}`);
    await logger.close();
    const text = Deno.readTextFileSync(`${root}/secrets_manager_agent.log`);
    assert.equal(text.split("\n").length, 5);
    assert.ok(!text.includes(TOKEN));
  });
});

Deno.test("the file logger filters by level", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "WARN",
      directory: root,
      now: () => T0,
    });
    logEveryLevel(logger);
    await logger.close();
    assert.equal(
      Deno.readTextFileSync(`${root}/secrets_manager_agent.log`),
      "2024-01-01T00:00:00.000Z WARN m warn\n2024-01-01T00:00:00.000Z ERROR m error\n",
    );
  });
});

Deno.test("level NONE creates no folder and no file", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({ level: "NONE", directory: `${root}/logs` });
    logEveryLevel(logger);
    await logger.close();
    assert.deepEqual([...Deno.readDirSync(root)], []);
  });
});

Deno.test("the log folder is created 0700 and the file 0600 even under a restrictive umask", async () => {
  await withTempDir(async (root) => {
    // The parent exists: under this umask a user other than root could not
    // create a folder inside one it made, whatever the logger does.
    await Deno.mkdir(`${root}/nested`);
    const previous = Deno.umask(0o277);
    let logger: Logger;
    try {
      logger = openFileLogger({
        level: "INFO",
        directory: `${root}/nested/logs`,
      });
    } finally {
      Deno.umask(previous);
    }
    logger.info("hello");
    await logger.close();
    assert.equal(mode(`${root}/nested/logs`), 0o700);
    assert.equal(mode(`${root}/nested/logs/secrets_manager_agent.log`), 0o600);
  });
});

Deno.test("the file logger rotates with a small maxBytes and keeps five archives", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "INFO",
      directory: root,
      maxBytes: 200,
      now: () => T0,
    });
    for (let index = 0; index < 100; index++) logger.info(`request ${index}`);
    await logger.close();
    const archives = [...Deno.readDirSync(`${root}/archive`)].map((e) => e.name)
      .sort();
    assert.equal(archives.length, 5);
    assert.ok(
      archives.every((name) =>
        /^secrets_manager_agent\.log\.\d+\.gz$/.test(name)
      ),
    );
    const current = Deno.readTextFileSync(`${root}/secrets_manager_agent.log`);
    assert.ok(current.endsWith("INFO request 99\n"));
  });
});

Deno.test("a deleted log folder is re-created, and lines lost meanwhile are counted in the log", async () => {
  await withTempDir(async (root) => {
    const directory = `${root}/logs`;
    let time = T0.getTime();
    const reports: string[] = [];
    const logger = openFileLogger({
      level: "INFO",
      directory,
      now: () => new Date(time),
      batchDelayMs: 0,
      stderr: (line) => reports.push(line),
    });
    logger.info("before");
    await nextTurn();
    Deno.removeSync(directory, { recursive: true });
    Deno.writeTextFileSync(directory, "not a folder");
    time += 5000;
    logger.info("lost 1");
    logger.error("lost 2");
    await nextTurn();
    assert.equal(reports.length, 1);
    assert.match(reports[0], /^Logging: cannot write the log file/);
    Deno.removeSync(directory);
    logger.info("after");
    await logger.close();
    assert.equal(
      Deno.readTextFileSync(`${directory}/secrets_manager_agent.log`),
      "2024-01-01T00:00:05.000Z WARN 2 log lines were lost while the log file could not be written\n" +
        "2024-01-01T00:00:05.000Z INFO after\n",
    );
  });
});

/** Lets a file logger with `batchDelayMs: 0` write what it holds. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("lines are written together after the batch delay, in order, and close flushes the rest", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "INFO",
      directory: root,
      now: () => T0,
      batchDelayMs: 0,
    });
    const path = `${root}/secrets_manager_agent.log`;
    logger.info("one");
    logger.warn("two");
    assert.equal(Deno.readTextFileSync(path), "", "nothing written at once");
    await nextTurn();
    assert.equal(
      Deno.readTextFileSync(path),
      "2024-01-01T00:00:00.000Z INFO one\n2024-01-01T00:00:00.000Z WARN two\n",
    );
    logger.info("three");
    await logger.close();
    assert.ok(
      Deno.readTextFileSync(path).endsWith("INFO three\n"),
      "close flushes",
    );
  });
});

Deno.test("64 KiB of pending lines are written at once, without waiting for the delay", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "INFO",
      directory: root,
      now: () => T0,
      batchDelayMs: 60_000,
    });
    const path = `${root}/secrets_manager_agent.log`;
    const line = "x".repeat(1000);
    for (let i = 0; i < 70; i++) logger.info(line);
    const written = Deno.readTextFileSync(path).split("\n").length - 1;
    assert.ok(written >= 60 && written < 70, `${written} lines written`);
    await logger.close();
    assert.equal(Deno.readTextFileSync(path).split("\n").length - 1, 70);
  });
});

Deno.test("logging after close is dropped without throwing", async () => {
  await withTempDir(async (root) => {
    const logger = openFileLogger({
      level: "DEBUG",
      directory: root,
      now: () => T0,
    });
    logger.info("kept");
    await logger.close();
    logEveryLevel(logger);
    await logger.close();
    assert.equal(
      Deno.readTextFileSync(`${root}/secrets_manager_agent.log`),
      "2024-01-01T00:00:00.000Z INFO kept\n",
    );
    const { logger: console, stdout } = captured("DEBUG");
    await console.close();
    logEveryLevel(console);
    assert.deepEqual(stdout, []);
  });
});

Deno.test("a throwing output or clock never reaches the caller", () => {
  const logger = consoleLogger({
    level: "DEBUG",
    stdout: () => {
      throw new Error("EPIPE");
    },
    stderr: () => {
      throw new Error("EPIPE");
    },
  });
  logEveryLevel(logger);
  const broken = consoleLogger({
    level: "DEBUG",
    now: () => new Date(Number.NaN),
  });
  logEveryLevel(broken);
});

Deno.test("a folder that cannot be created is a LoggerError naming it", async () => {
  await withTempDir((root) => {
    Deno.writeTextFileSync(`${root}/logs`, "a file");
    assert.throws(
      () => openFileLogger({ level: "INFO", directory: `${root}/logs` }),
      (error: unknown) =>
        error instanceof LoggerError &&
        error.message.startsWith(`Cannot open the log file in ${root}/logs: `),
    );
  });
});

async function openInSandbox(
  root: string,
  permissions: string[],
): Promise<string> {
  const script = `${root}/open.ts`;
  Deno.writeTextFileSync(
    script,
    `import { openFileLogger } from ${
      JSON.stringify(new URL("../../src/log/logger.ts", import.meta.url).href)
    };
try { openFileLogger({ level: "INFO", directory: "./logs" }); console.log("opened"); }
catch (error) { console.log(error.name + ": " + error.message); }`,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, script],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout);
}

Deno.test("a sandbox without write access to the folder gives a LoggerError naming the permission to grant", async () => {
  await withTempDir(async (root) => {
    const text = await openInSandbox(root, [
      "--allow-read",
      `--allow-write=${root}/elsewhere`,
    ]);
    assert.match(text, /^LoggerError: Cannot open the log file in \.\/logs: /);
    assert.ok(
      text.includes(
        "grant write access to ./logs (--allow-write=./logs; the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions)",
      ),
      text,
    );
    assert.throws(() => Deno.statSync(`${root}/logs`), Deno.errors.NotFound);
  });
});

Deno.test("a sandbox without read access to the folder gives a LoggerError naming the read permission", async () => {
  await withTempDir(async (root) => {
    const text = await openInSandbox(root, ["--allow-write=./logs"]);
    assert.match(text, /^LoggerError: Cannot open the log file in \.\/logs: /);
    assert.ok(
      text.includes(
        "grant read access to ./logs (--allow-read=./logs; the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions)",
      ),
      text,
    );
  });
});

Deno.test("invalid options are LoggerErrors", () => {
  const bad = [
    { level: "LOUD" as LogLevel },
    { level: "INFO" as const, maxBytes: 0 },
    { level: "INFO" as const, maxBytes: 1.5 },
    { level: "INFO" as const, maxFiles: -1 },
    { level: "INFO" as const, fileName: "../escape.log" },
  ];
  for (const options of bad) {
    assert.throws(
      () => openFileLogger(options),
      LoggerError,
      JSON.stringify(options),
    );
  }
  assert.throws(
    () => consoleLogger({ level: "LOUD" as LogLevel }),
    LoggerError,
  );
});

Deno.test("setLevel changes what is written from then on; a logger opened at NONE stays silent", () => {
  const { logger, stdout, stderr } = captured("INFO");
  logger.debug("hidden");
  logger.setLevel("DEBUG");
  logger.debug("shown");
  logger.setLevel("ERROR");
  logger.warn("hidden too");
  logger.error("failure");
  assert.deepEqual(stdout.map((line) => line.split(" ").slice(1).join(" ")), [
    "DEBUG shown",
  ]);
  assert.deepEqual(stderr.map((line) => line.split(" ").slice(1).join(" ")), [
    "ERROR failure",
  ]);
  assert.throws(() => logger.setLevel("LOUD" as LogLevel));
  const silent = captured("NONE");
  silent.logger.setLevel("DEBUG");
  logEveryLevel(silent.logger);
  assert.deepEqual([...silent.stdout, ...silent.stderr], []);
});

Deno.test("a value percent-encoded, any of its characters, in either case, is redacted; one character off is not", () => {
  const { logger, stdout } = captured("INFO", [TOKEN, "pass word"]);
  const encodeAll = (text: string) =>
    [...text].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("");
  logger.info(`GET /v1/${encodeAll(TOKEN)} 400`);
  logger.info(`GET /v1/${encodeAll(TOKEN).toUpperCase()} 400`);
  logger.info(`GET /v1/db?versionId=ssrf%2Dtoken-4f9%63%32a7e 400`);
  logger.info(`GET /v1/db?versionId=ssrf%2Dtoken-4f9%63%32a7E 400`);
  logger.info("q=pass+word&r=pass%20word");
  assert.deepEqual(stdout, [
    "2024-01-01T00:00:00.000Z INFO GET /v1/[REDACTED] 400",
    "2024-01-01T00:00:00.000Z INFO GET /v1/[REDACTED] 400",
    "2024-01-01T00:00:00.000Z INFO GET /v1/db?versionId=[REDACTED] 400",
    "2024-01-01T00:00:00.000Z INFO GET /v1/db?versionId=ssrf%2Dtoken-4f9%63%32a7E 400",
    "2024-01-01T00:00:00.000Z INFO q=[REDACTED]&r=[REDACTED]",
  ]);
});

Deno.test("a value with quotes or backslashes is redacted JSON-escaped too, as an audit record holds it", () => {
  const value = 'tok"en\\4f9c';
  const { logger, stdout } = captured("INFO", [value]);
  logger.info(JSON.stringify({ id: value }));
  assert.deepEqual(stdout, [
    '2024-01-01T00:00:00.000Z INFO {"id":"[REDACTED]"}',
  ]);
});

Deno.test("a log folder others may write to is a LoggerError of one line naming it and what to do", async () => {
  await withTempDir((root) => {
    const directory = `${root}/logs`;
    Deno.mkdirSync(directory);
    Deno.chmodSync(directory, 0o777);
    assert.throws(
      () => openFileLogger({ level: "INFO", directory }),
      (error: unknown) =>
        error instanceof LoggerError &&
        error.message ===
          `Cannot open the log file in ${directory}: the log folder ${directory} is writable by other users (mode 0777), who may have planted links in it: check what it holds, then chmod 700 ${directory}`,
    );
  });
});

Deno.test("a log folder only readable by others is set to 0700, and a WARN line in the log says so", async () => {
  await withTempDir(async (root) => {
    const directory = `${root}/logs`;
    Deno.mkdirSync(directory);
    Deno.chmodSync(directory, 0o750);
    const logger = openFileLogger({ level: "INFO", directory, now: () => T0 });
    logger.info("hello");
    await logger.close();
    assert.equal(mode(directory), 0o700);
    assert.equal(
      Deno.readTextFileSync(`${directory}/secrets_manager_agent.log`),
      `2024-01-01T00:00:00.000Z WARN The log folder ${directory} was mode 0750; it is now 0700\n2024-01-01T00:00:00.000Z INFO hello\n`,
    );
  });
});

Deno.test("the audit file rotates on its own budget: rotations of the main log in the same folder never prune the audit archives", async () => {
  await withTempDir(async (root) => {
    const audit = openFileLogger({
      level: "INFO",
      directory: root,
      fileName: "secrets_manager_agent_audit.log",
      maxBytes: 200,
    });
    for (let index = 0; index < 20; index++) audit.info(`audited ${index}`);
    await audit.close();
    const auditArchives = () =>
      [...Deno.readDirSync(`${root}/archive`)].map((entry) => entry.name)
        .filter((name) => name.includes("_audit")).sort();
    const before = auditArchives();
    assert.ok(before.length > 0);

    const main = openFileLogger({
      level: "INFO",
      directory: root,
      maxBytes: 200,
    });
    for (let index = 0; index < 500; index++) main.info(`refused ${index}`);
    await main.close();
    assert.deepEqual(auditArchives(), before);
  });
});
