/**
 * After the soak: every file under the agent's `logs` folder (the current
 * log and the rotated archives, gunzipped) searched for what must never be
 * logged, and the modes of the folders and files checked.
 *
 * @module
 */

import { VALUE_MARK } from "./soak_secrets.ts";

/** The current log, relative to the agent's folder. */
export const LOG_FILE = "logs/secrets_manager_agent.log";

/** What {@linkcode scanLogs} found. */
export interface LogScan {
  /** Files read, relative to the agent's folder, with their (uncompressed) size. */
  readonly files: { readonly path: string; readonly bytes: number }[];
  /** Needle name -> occurrences over every file. */
  readonly hits: Map<string, number>;
  /** Mode of the current log file, or undefined when there is none. */
  logFileMode: number | undefined;
  /** Mode of the `logs` folder, or undefined when there is none. */
  folderMode: number | undefined;
  /** Entries under `logs` whose mode is not 0700 (folders) or 0600 (files). */
  readonly wrongModes: string[];
  /** Files that could not be read whole (a broken gzip archive). */
  readonly unreadable: string[];
}

/** Options of {@linkcode scanLogs}. */
export interface ScanOptions {
  /** Name -> exact text that must not occur. */
  readonly needles: Readonly<Record<string, string>>;
}

/** The name under which {@linkcode LogScan.hits} counts secret values (by their marks). */
export const SECRET_VALUES = "secret values";

/** Reads every file under `<agentDir>/logs` and counts the needles in it. */
export async function scanLogs(
  agentDir: string,
  options: ScanOptions,
): Promise<LogScan> {
  const scan: LogScan = {
    files: [],
    hits: new Map(
      [SECRET_VALUES, ...Object.keys(options.needles)].map((name) => [name, 0]),
    ),
    logFileMode: await modeOf(`${agentDir}/${LOG_FILE}`),
    folderMode: await modeOf(`${agentDir}/logs`),
    wrongModes: [],
    unreadable: [],
  };
  if (scan.folderMode === undefined) return scan;
  for await (const path of walk(agentDir, "logs", scan)) {
    const text = await readLogText(`${agentDir}/${path}`, path, scan);
    scan.files.push({ path, bytes: text.length });
    for (const [name, needle] of Object.entries(options.needles)) {
      scan.hits.set(name, scan.hits.get(name)! + text.split(needle).length - 1);
    }
    // Every value holds a unique mark, found however the value was escaped.
    const marks = text.match(VALUE_MARK)?.length ?? 0;
    scan.hits.set(SECRET_VALUES, scan.hits.get(SECRET_VALUES)! + marks);
  }
  return scan;
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mode! & 0o777;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Files below `relative` (depth first), noting entries with a wrong mode. */
async function* walk(
  root: string,
  relative: string,
  scan: LogScan,
): AsyncGenerator<string> {
  const folderMode = await modeOf(`${root}/${relative}`);
  if (folderMode !== 0o700) {
    scan.wrongModes.push(`${relative}/ ${octal(folderMode)}`);
  }
  for await (const entry of Deno.readDir(`${root}/${relative}`)) {
    const path = `${relative}/${entry.name}`;
    if (entry.isDirectory) {
      yield* walk(root, path, scan);
    } else if (entry.isFile) {
      const mode = await modeOf(`${root}/${path}`);
      if (mode !== 0o600) scan.wrongModes.push(`${path} ${octal(mode)}`);
      yield path;
    }
  }
}

/** A file's text; gzip archives are gunzipped (what is readable of them). */
async function readLogText(
  file: string,
  path: string,
  scan: LogScan,
): Promise<string> {
  const bytes = await Deno.readFile(file);
  const isGzip = path.endsWith(".gz") || path.endsWith(".gz.tmp");
  if (!isGzip) return new TextDecoder().decode(bytes);
  let text = "";
  try {
    const stream = new Blob([bytes]).stream()
      .pipeThrough(new DecompressionStream("gzip"))
      .pipeThrough(new TextDecoderStream());
    for await (const chunk of stream) text += chunk;
  } catch {
    scan.unreadable.push(path);
  }
  return text;
}

/** `0600`, or `missing`. */
export function octal(mode: number | undefined): string {
  return mode === undefined ? "missing" : `0${mode.toString(8)}`;
}
