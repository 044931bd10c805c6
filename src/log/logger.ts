/**
 * The agent's logger: one line per message, `<RFC 3339 UTC time> <LEVEL>
 * <message>`, to a rotating file or to stdout/stderr.
 *
 * Every message is escaped, then redacted, before it is written (see
 * `log_text.ts`):
 * - Redaction replaces each registered value (the SSRF token, credentials)
 *   with `[REDACTED]`, as written and percent-encoded (any of its characters
 *   as `%XX`, either case, a space also as `+`: the form a URL in a request
 *   line carries it in) and JSON-escaped. Values shorter than
 *   {@linkcode MIN_REDACTION_LENGTH} characters are ignored: a one- or
 *   two-character "secret" would mangle
 *   every message that happens to contain it (and an empty one would match
 *   between every character), and real tokens and keys are far longer.
 * - Escaping writes control characters (C0, DEL, C1), U+2028/U+2029 and the
 *   bidirectional overrides as `\n`, `\r`, `\t`, `\xHH` or `\uHHHH`, so no
 *   input can end a line early, forge a line or rewrite a terminal. The
 *   escaping is one-way (a backslash is kept as is): it is for reading, not
 *   for parsing back.
 *
 * Both loggers write in batches (see `line_batch.ts`): lines reach the file
 * or stream within `batchDelayMs` (10 ms by default), in order, and all of
 * them by `close()`. The file logger writes synchronously (see
 * `rotating_file.ts` for rotation and gzip archives); a write failure is
 * reported once on stderr and never thrown to the caller.
 *
 * @module
 */

import { firstLine, grantHint } from "../failure_text.ts";
import {
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_DELAY_MS,
  LineBatch,
} from "./line_batch.ts";
import { LogFolderError } from "./log_folder.ts";
import { escapeMessage, Redactor } from "./log_text.ts";
import { RotatingFile } from "./rotating_file.ts";
import type { LogLevel } from "./log_level.ts";

/** What the agent logs through. No method throws. */
export interface Logger {
  /** Logs at DEBUG. */
  debug(message: string): void;
  /** Logs at INFO. */
  info(message: string): void;
  /** Logs at WARN. */
  warn(message: string): void;
  /** Logs at ERROR. */
  error(message: string): void;
  /** From now on, replaces `value` with `[REDACTED]` in every message. */
  addRedaction(value: string): void;
  /**
   * From now on, writes messages of `level` and above (a SIGHUP reload). A
   * file logger opened at `NONE` has no file, and stays silent.
   */
  setLevel(level: LogLevel): void;
  /** Flushes and closes; messages logged afterwards are dropped silently. */
  close(): Promise<void> | void;
}

/** Options of {@linkcode openFileLogger}. */
export interface FileLoggerOptions {
  /** Least severe level written; `NONE` writes nothing and creates nothing. */
  level: LogLevel;
  /** Folder of the log file, relative to the working directory. Default `./logs`. */
  directory?: string;
  /** Default `secrets_manager_agent.log`. */
  fileName?: string;
  /** Size at which a new file is started. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept in `<directory>/archive`. Default 5. */
  maxFiles?: number;
  /** Values that must never appear in the log. */
  redactions?: readonly string[];
  /** Clock for timestamps. Default: the system clock. */
  now?: () => Date;
  /** How long a line may wait to be written with others. Default 10 ms. */
  batchDelayMs?: number;
  /** Where a logging failure is reported, once. Default: the process's stderr. */
  stderr?: (line: string) => void;
}

/** Options of {@linkcode consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Least severe level written; `NONE` writes nothing. */
  level: LogLevel;
  /** Values that must never appear in the log. */
  redactions?: readonly string[];
  /** Clock for timestamps. Default: the system clock. */
  now?: () => Date;
  /** Receives DEBUG and INFO lines (without newline). Default: the process's stdout, batched. */
  stdout?: (line: string) => void;
  /** Receives WARN and ERROR lines (without newline). Default: the process's stderr, batched. */
  stderr?: (line: string) => void;
}

/** The logger could not be set up (bad option, folder or file not writable). */
export class LoggerError extends Error {
  /** `message` names what failed and, for a sandbox refusal, what to grant. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LoggerError";
  }
}

export { MIN_REDACTION_LENGTH } from "./log_text.ts";

/** Default folder of the log file. */
export const DEFAULT_LOG_DIRECTORY = "./logs";
/** Default name of the log file. */
export const DEFAULT_LOG_FILE_NAME = "secrets_manager_agent.log";
/** Default size at which a new log file is started: 10 MiB. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;
/** Default number of rotated log files kept. */
export const DEFAULT_MAX_LOG_FILES = 5;

const SEVERITY: Readonly<Record<LogLevel, number>> = Object.freeze({
  DEBUG: 0,
  INFO: 1,
  WARN: 2,
  ERROR: 3,
  NONE: 4,
});
type MessageLevel = Exclude<LogLevel, "NONE">;

/**
 * Opens `<directory>/<fileName>` for appending (creating the folder with mode
 * 0700 and the file with mode 0600) and returns a logger writing to it.
 * With level `NONE` nothing is created. Throws {@linkcode LoggerError} when an
 * option is invalid, the folder or file cannot be created, or the folder is
 * not safe to write into (others may write to it or own it, or a link is
 * where a file should be: see `log_folder.ts`). A folder only readable by
 * others is set to 0700 and a WARN line says so.
 */
export function openFileLogger(options: FileLoggerOptions): Logger {
  const level = checkLevel(options.level);
  const directory = options.directory ?? DEFAULT_LOG_DIRECTORY;
  const fileName = checkFileName(options.fileName ?? DEFAULT_LOG_FILE_NAME);
  const maxBytes = checkCount("maxBytes", options.maxBytes, 1) ??
    DEFAULT_MAX_LOG_BYTES;
  const maxFiles = checkCount("maxFiles", options.maxFiles, 0) ??
    DEFAULT_MAX_LOG_FILES;
  const nowMs = clockMs(options.now);
  const stderr = options.stderr ?? writeStderr;
  if (level === "NONE") {
    return levelLogger(level, options.redactions, nowMs, () => {}, () => {});
  }
  // Notices come before the logger exists; they are logged once it does.
  const notices: string[] = [];
  let onNotice = (message: string): void => {
    notices.push(message);
  };
  let file: RotatingFile;
  try {
    file = RotatingFile.open({
      directory,
      fileName,
      maxBytes,
      maxFiles,
      reportError: stderr,
      reportNotice: (message) => onNotice(message),
      nowMs,
    });
  } catch (error) {
    throw new LoggerError(describeOpenFailure(directory, error), {
      cause: error,
    });
  }
  const encoder = new TextEncoder();
  let droppedLines = 0;
  const writeChunk = (bytes: Uint8Array, lines: number) => {
    if (droppedLines > 0) {
      const notice = formatLine(
        nowMs(),
        "WARN",
        `${droppedLines} log lines were lost while the log file could not be written`,
      );
      if (!file.write(encoder.encode(`${notice}\n`))) {
        droppedLines += lines;
        return;
      }
      droppedLines = 0;
    }
    if (!file.write(bytes)) droppedLines += lines;
  };
  const batch = new LineBatch({
    write: writeChunk,
    delayMs: options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS,
    // A write never straddles a rotation by more than one line.
    maxChunkBytes: Math.min(DEFAULT_BATCH_BYTES, maxBytes),
  });
  const logger = levelLogger(
    level,
    options.redactions,
    nowMs,
    (_level, stamp, line) => {
      batch.add(stamp, line);
    },
    () => {
      batch.flush();
      return file.close();
    },
  );
  onNotice = logger.warn;
  for (const message of notices) logger.warn(message);
  return logger;
}

/**
 * A logger writing DEBUG and INFO lines to stdout and WARN and ERROR lines to
 * stderr.
 */
export function consoleLogger(options: ConsoleLoggerOptions): Logger {
  const level = checkLevel(options.level);
  const flushes: (() => void)[] = [];
  const stdout = lineSink(options.stdout, Deno.stdout, flushes);
  const stderr = lineSink(options.stderr, Deno.stderr, flushes);
  const emit = (messageLevel: MessageLevel, stamp: string, line: string) => {
    if (messageLevel === "DEBUG" || messageLevel === "INFO") {
      stdout(stamp, line);
    } else stderr(stamp, line);
  };
  return levelLogger(
    level,
    options.redactions,
    clockMs(options.now),
    emit,
    () => {
      for (const flush of flushes) flush();
    },
  );
}

/** The level filter, redaction, escaping and closing shared by both loggers. */
function levelLogger(
  initialLevel: LogLevel,
  initialRedactions: readonly string[] | undefined,
  nowMs: () => number,
  emit: Emit,
  closeOutput: () => Promise<void> | void,
): Logger {
  const redactor = new Redactor(initialRedactions ?? []);
  let level = initialLevel;
  let isClosed = false;
  // The same message again (a client polling one secret) is escaped and
  // redacted once; a new redaction forgets it.
  let lastMessage: string | undefined;
  let lastLevel: MessageLevel | undefined;
  let lastLine = "";
  const log = (messageLevel: MessageLevel, message: string) => {
    if (isClosed || SEVERITY[messageLevel] < SEVERITY[level]) return;
    try {
      if (message !== lastMessage || messageLevel !== lastLevel) {
        const text = redactor.redact(escapeMessage(String(message)));
        lastLine = `${messageLevel} ${text}`;
        lastMessage = message;
        lastLevel = messageLevel;
      }
      emit(messageLevel, stampOf(nowMs()), lastLine);
    } catch {
      // A broken clock or output must not break the caller; file failures
      // are already reported by the file itself.
    }
  };
  return {
    debug: (message) => log("DEBUG", message),
    info: (message) => log("INFO", message),
    warn: (message) => log("WARN", message),
    error: (message) => log("ERROR", message),
    addRedaction: (value) => {
      redactor.add(value);
      lastMessage = undefined;
    },
    setLevel: (next) => {
      if (initialLevel !== "NONE") level = checkLevel(next);
    },
    close: () => {
      if (isClosed) return;
      isClosed = true;
      return closeOutput();
    },
  };
}

/**
 * Where a logger's lines go: the time stamp (with its space) and the rest,
 * `INFO message`, kept apart so each can be encoded once and reused.
 */
type Emit = (level: MessageLevel, stamp: string, line: string) => void;

/** `2024-01-01T00:00:00.000Z INFO message`. */
function formatLine(timeMs: number, level: MessageLevel, text: string): string {
  return `${stampOf(timeMs)}${level} ${text}`;
}

/** Milliseconds from the given clock, or from the system clock. */
function clockMs(now: (() => Date) | undefined): () => number {
  return now === undefined ? Date.now : () => now().getTime();
}

// Formatting a Date costs more than the rest of a log line: a busy agent
// logs many lines within one millisecond, and they share one string.
let lastTimestampMs = Number.NaN;
let lastStamp = "";

/** `timeMs` as ISO 8601 and a space; throws `RangeError` for a clock that is not a time. */
function stampOf(timeMs: number): string {
  if (timeMs !== lastTimestampMs) {
    lastStamp = `${new Date(timeMs).toISOString()} `;
    lastTimestampMs = timeMs;
  }
  return lastStamp;
}

function describeOpenFailure(directory: string, error: unknown): string {
  if (error instanceof LogFolderError) {
    return `Cannot open the log file in ${directory}: ${error.message}`;
  }
  const reason = firstLine(error);
  if (error instanceof Deno.errors.NotCapable) {
    const access = reason.includes("read access") ? "read" : "write";
    return `Cannot open the log file in ${directory}: ${reason}; grant ${access} access to ${directory} (${
      grantHint(`--allow-${access}=${directory}`)
    })`;
  }
  return `Cannot open the log file in ${directory}: ${reason}`;
}

function checkLevel(level: LogLevel): LogLevel {
  if (!Object.hasOwn(SEVERITY, level)) {
    throw new LoggerError(
      `Invalid log level ${JSON.stringify(level)}: expected one of ${
        Object.keys(SEVERITY).join(", ")
      }`,
    );
  }
  return level;
}

function checkFileName(fileName: string): string {
  if (
    fileName === "" || fileName === "." || fileName === ".." ||
    /[\\/]/.test(fileName) || fileName.includes("\0")
  ) {
    throw new LoggerError(
      `Invalid log file name ${
        JSON.stringify(fileName)
      }: expected a plain file name`,
    );
  }
  return fileName;
}

function checkCount(
  name: string,
  value: number | undefined,
  minimum: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new LoggerError(
      `Invalid ${name} ${value}: expected an integer of at least ${minimum}`,
    );
  }
  return value;
}

function writeStderr(line: string): void {
  writeLine(Deno.stderr, line);
}

type SyncStream = { writeSync(p: Uint8Array): number };

/** A line writer for `stream` that writes in batches; its flush joins `flushes`. */
/** A console stream's lines: to the given sink (tests), else batched onto `stream`. */
function lineSink(
  sink: ((line: string) => void) | undefined,
  stream: SyncStream,
  flushes: (() => void)[],
): (stamp: string, line: string) => void {
  if (sink !== undefined) return (stamp, line) => sink(`${stamp}${line}`);
  const batch = new LineBatch({
    write: (bytes) => writeBytes(stream, bytes),
    delayMs: DEFAULT_BATCH_DELAY_MS,
    maxChunkBytes: DEFAULT_BATCH_BYTES,
  });
  flushes.push(() => batch.flush());
  return (stamp, line) => batch.add(stamp, line);
}

function writeLine(stream: SyncStream, line: string) {
  writeBytes(stream, new TextEncoder().encode(`${line}\n`));
}

function writeBytes(stream: SyncStream, bytes: Uint8Array) {
  try {
    while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
  } catch {
    // A closed stdout/stderr (EPIPE) must not crash the agent.
  }
}
