/**
 * A reader for systemd unit files, enough for the deployment tests: sections,
 * `Key=value` lines (a key may repeat), comments and blank lines.
 *
 * @module
 */

/** Every value of every key, by section then key, in file order. */
export type UnitFile = ReadonlyMap<string, ReadonlyMap<string, string[]>>;

/** Raised for a line that is neither a section, a setting nor a comment. */
export class UnitFileSyntaxError extends Error {
  /** Builds the error for the 1-based line number and its text. */
  constructor(lineNumber: number, line: string) {
    super(`Line ${lineNumber} is not a unit file line: ${line}`);
    this.name = "UnitFileSyntaxError";
  }
}

/** Parses unit file text; throws UnitFileSyntaxError on a malformed line. */
export function parseUnitFile(text: string): UnitFile {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      return;
    }
    const setting = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!setting || !current) throw new UnitFileSyntaxError(index + 1, raw);
    const values = current.get(setting[1]) ?? [];
    values.push(setting[2].trim());
    current.set(setting[1], values);
  });
  return sections;
}

/** The values of `key` in `section`, empty when absent. */
export function unitValues(
  unit: UnitFile,
  section: string,
  key: string,
): readonly string[] {
  return unit.get(section)?.get(key) ?? [];
}
