/**
 * Parameter Store's naming rules: which names and labels are valid, and how
 * GetParameter's Name (a name or an ARN, with an optional `:version` or
 * `:label` selector) splits into what to look up.
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** Which version a selector picks. */
export type ParameterSelector =
  | { readonly version: number }
  | { readonly label: string };

/** A GetParameter Name, taken apart. */
export interface ParameterReference {
  /** Names it may mean, most likely first (`parameter/x` is `x` or `/x`). */
  readonly candidates: readonly string[];
  /** Whether an ARN names another region or account than the store's. */
  readonly isForeign: boolean;
  readonly selector?: ParameterSelector;
  /** The selector as written, with its colon (`:3`, `:prod`). */
  readonly selectorText?: string;
}

const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const MAX_NAME_LENGTH = 1011;
const MAX_LEVELS = 15;
const RESERVED_PREFIX = /^\/?(aws|ssm)/i;
const ARN_PATTERN = /^arn:aws:ssm:([^:]+):(\d{12}):parameter(\/[^:]+)(:.*)?$/;
const VERSION = /^[1-9][0-9]*$/;
const LABEL = /^[A-Za-z0-9_.-]{1,100}$/;
// SSM's own words for a name that breaks its rules.
const NAME_MESSAGE =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

/** Throws SSM's ValidationException unless `name` is a well-formed name. */
export function checkParameterName(name: string): void {
  if (name.includes("/") && !name.startsWith("/")) {
    throw ServiceError.validation(
      "Parameter name must be a fully qualified name.",
    );
  }
  const segments = name.startsWith("/") ? name.slice(1).split("/") : [name];
  if (
    name.length > MAX_NAME_LENGTH || segments.length > MAX_LEVELS ||
    !segments.every((s) => SEGMENT.test(s))
  ) {
    throw ServiceError.validation(NAME_MESSAGE);
  }
}

/** Like {@link checkParameterName}, and refuses the reserved `aws`/`ssm` prefixes, as PutParameter does. */
export function checkNewParameterName(name: string): void {
  checkParameterName(name);
  if (RESERVED_PREFIX.test(name)) throw ServiceError.validation(NAME_MESSAGE);
}

/** Whether `label` may be put on a version (LabelParameterVersion's rules). */
export function isValidLabel(label: string): boolean {
  return LABEL.test(label) && !/^[0-9]/.test(label) &&
    !RESERVED_PREFIX.test(label);
}

/** Splits GetParameter's Name; throws ValidationException when it is malformed. */
export function parseParameterReference(
  reference: string,
  home: { region: string; accountId: string },
): ParameterReference {
  let name = reference;
  let selectorText: string | undefined;
  let isForeign = false;
  let candidates: string[];
  if (reference.startsWith("arn:")) {
    const match = ARN_PATTERN.exec(reference);
    if (!match) throw ServiceError.validation(NAME_MESSAGE);
    const [, region, accountId, path, selector] = match;
    isForeign = region !== home.region || accountId !== home.accountId;
    selectorText = selector;
    name = path;
    // An ARN drops a top-level name's slash: parameter/x is "x" or "/x".
    candidates = path.indexOf("/", 1) === -1 ? [path.slice(1), path] : [path];
  } else {
    const colon = reference.indexOf(":");
    if (colon !== -1) {
      name = reference.slice(0, colon);
      selectorText = reference.slice(colon);
    }
    candidates = [name];
  }
  checkParameterName(name);
  if (selectorText === undefined) return { candidates, isForeign };
  return {
    candidates,
    isForeign,
    selector: parseSelector(selectorText),
    selectorText,
  };
}

function parseSelector(text: string): ParameterSelector {
  const body = text.slice(1);
  if (VERSION.test(body)) return { version: Number(body) };
  if (isValidLabel(body)) return { label: body };
  throw ServiceError.validation(
    `Invalid label or version selector: ${text}. A version is a positive number; a label starts with a letter and holds letters, numbers and .-_`,
  );
}
