/**
 * What a log message goes through before it is written: escaping, so no
 * input can end a line early or rewrite a terminal, and redaction of the
 * values that must never be logged (the SSRF token, credentials), in every
 * form a message may carry them in.
 *
 * @module
 */

/** Shorter redaction values are ignored (see `logger.ts`). */
export const MIN_REDACTION_LENGTH = 4;

const REDACTED = "[REDACTED]";

/** Replaces registered values, longest first so a value inside another cannot leave a part of it. */
export class Redactor {
  #values: RedactedValue[] = [];

  /** Starts with `values` registered. */
  constructor(values: readonly string[]) {
    for (const value of values) this.add(value);
  }

  /** Registers `value`; one shorter than {@linkcode MIN_REDACTION_LENGTH} is ignored. */
  add(value: string): void {
    if (typeof value !== "string" || value.length < MIN_REDACTION_LENGTH) {
      return;
    }
    if (this.#values.some((known) => known.value === value)) return;
    this.#values.push(redactedValue(value));
    this.#values.sort((a, b) => b.value.length - a.value.length);
  }

  /** `text` with every registered value, in each of its forms, replaced. */
  redact(text: string): string {
    let result = text;
    for (const { literals, encoded, encodedMarker } of this.#values) {
      for (const literal of literals) {
        if (result.includes(literal)) {
          result = result.replaceAll(literal, REDACTED);
        }
      }
      // Most lines hold no `%`: the pattern only runs on those that do.
      if (
        result.includes("%") || (encodedMarker && result.includes("+"))
      ) {
        result = result.replace(encoded, REDACTED);
      }
    }
    return result;
  }
}

/** One value to redact and the forms it is looked for in. */
interface RedactedValue {
  readonly value: string;
  /** As written, escaped as the logger escapes it, and JSON-escaped. */
  readonly literals: readonly string[];
  /** Any mix of characters as written and percent-encoded. */
  readonly encoded: RegExp;
  /** Whether `+` may stand for one of its characters (a space). */
  readonly encodedMarker: boolean;
}

function redactedValue(value: string): RedactedValue {
  // Messages are escaped before redaction, so a value with control
  // characters is looked for in its escaped form; an audit record holds
  // it JSON-escaped.
  const literals = new Set([
    value,
    escapeMessage(value),
    escapeMessage(JSON.stringify(value).slice(1, -1)),
  ]);
  let pattern = "";
  for (const character of value) {
    const forms = [escapeRegExp(escapeMessage(character))];
    for (const byte of utf8.encode(character)) forms.push(percentForm(byte));
    if (character === " ") forms.push("\\+");
    pattern += `(?:${forms.join("|")})`;
  }
  return {
    value,
    literals: [...literals].sort((a, b) => b.length - a.length),
    encoded: new RegExp(pattern, "g"),
    encodedMarker: value.includes(" "),
  };
}

const utf8 = new TextEncoder();

/** `%XX` for `byte`, its hex digits in either case. */
function percentForm(byte: number): string {
  const hex = byte.toString(16).padStart(2, "0");
  return `%${
    [...hex].map((digit) =>
      /[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit
    ).join("")
  }`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi controls.
const UNSAFE_CHARACTERS =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = Object.freeze({
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
});

// A test is much cheaper than a replace that finds nothing, the usual case.
const HAS_UNSAFE_CHARACTER = new RegExp(UNSAFE_CHARACTERS.source);

/** `message` with control, separator and bidi characters written as escapes. */
export function escapeMessage(message: string): string {
  if (!HAS_UNSAFE_CHARACTER.test(message)) return message;
  return message.replace(UNSAFE_CHARACTERS, (character) => {
    const short = SHORT_ESCAPES[character];
    if (short !== undefined) return short;
    const code = character.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
