/**
 * The state behind the local Parameter Store: parameters, their numbered
 * versions and labels, with SSM's rules (every put is a new version, a label
 * sits on at most one version). Pure and synchronous like the secrets store;
 * the wire format lives in `ssm_operations.ts`.
 *
 * @module
 */

import {
  checkNewParameterName,
  checkParameterName,
  isValidLabel,
  type ParameterReference,
  parseParameterReference,
} from "./parameter_names.ts";
import { ServiceError } from "./service_error.ts";

/** The value types SSM knows. */
export type ParameterType = "String" | "StringList" | "SecureString";

/** One version of a parameter (a copy), as GetParameter finds it. */
export interface StoredParameter {
  readonly name: string;
  readonly arn: string;
  readonly type: ParameterType;
  /** The plaintext, SecureString included. */
  readonly value: string;
  readonly version: number;
  /** Epoch milliseconds. */
  readonly lastModifiedDateMs: number;
  readonly labels: readonly string[];
  readonly dataType: "text";
  /** The selector the reference carried (`:3`, `:prod`), if any. */
  readonly selector?: string;
}

/** Options of {@link ParameterStore}. */
export interface ParameterStoreOptions {
  /** Region in ARNs; default `us-east-1`. */
  region?: string;
  /** Account in ARNs; default `123456789012`. */
  accountId?: string;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

interface Version {
  readonly version: number;
  readonly type: ParameterType;
  readonly value: string;
  readonly lastModifiedDateMs: number;
  labels: string[];
}

interface Parameter {
  readonly name: string;
  readonly arn: string;
  readonly versions: Version[];
}

const TYPES: readonly ParameterType[] = [
  "String",
  "StringList",
  "SecureString",
];
const MAX_LABELS_PER_VERSION = 10;

/** Parameters with versions and labels, with Parameter Store's semantics. */
export class ParameterStore {
  #parameters = new Map<string, Parameter>();
  #region: string;
  #accountId: string;
  #now: () => number;

  /** An empty store. */
  constructor(options: ParameterStoreOptions = {}) {
    this.#region = options.region ?? "us-east-1";
    this.#accountId = options.accountId ?? "123456789012";
    this.#now = options.now ?? Date.now;
  }

  /** PutParameter with Overwrite: a new version (type defaults to the last one's, else String), then labels it. */
  putParameter(
    name: string,
    value: string,
    options: { type?: ParameterType; labels?: readonly string[] } = {},
  ): { name: string; arn: string; version: number } {
    checkNewParameterName(name);
    const existing = this.#parameters.get(name);
    const type = options.type ?? existing?.versions.at(-1)?.type ?? "String";
    if (!TYPES.includes(type)) {
      throw ServiceError.validation(
        `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    if (value.length === 0) {
      throw ServiceError.validation(
        "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const parameter = existing ?? {
      name,
      // A top-level name's ARN has no slash of its own: parameter/x.
      arn: `arn:aws:ssm:${this.#region}:${this.#accountId}:parameter/${
        name.replace(/^\//, "")
      }`,
      versions: [],
    };
    const version = parameter.versions.length + 1;
    parameter.versions.push({
      version,
      type,
      value,
      lastModifiedDateMs: this.#now(),
      labels: [],
    });
    this.#parameters.set(name, parameter);
    if (options.labels?.length) {
      this.labelParameterVersion(name, version, options.labels);
    }
    return { name, arn: parameter.arn, version };
  }

  /** LabelParameterVersion: moves each label onto `version`; throws on a label SSM would refuse. */
  labelParameterVersion(
    name: string,
    version: number,
    labels: readonly string[],
  ): void {
    const parameter = this.#find([name]);
    const target = versionOf(parameter, version);
    const invalid = labels.filter((label) => !isValidLabel(label));
    if (invalid.length > 0) {
      throw ServiceError.validation(`Invalid labels: ${invalid.join(", ")}.`);
    }
    const added = labels.filter((label) => !target.labels.includes(label));
    if (target.labels.length + new Set(added).size > MAX_LABELS_PER_VERSION) {
      throw new ServiceError(
        "ParameterVersionLabelLimitExceeded",
        `A parameter version can have at most ${MAX_LABELS_PER_VERSION} labels.`,
      );
    }
    for (const label of new Set(added)) {
      for (const other of parameter.versions) {
        other.labels = other.labels.filter((l) => l !== label);
      }
      target.labels.push(label);
    }
  }

  /** GetParameter: by name or ARN, the latest version unless a `:version` or `:label` selector says otherwise. */
  getParameter(reference: string): StoredParameter {
    const parsed = parseParameterReference(reference, {
      region: this.#region,
      accountId: this.#accountId,
    });
    // Another account's or region's parameters are not here.
    const parameter = this.#find(parsed.isForeign ? [] : parsed.candidates);
    return view(parameter, selectVersion(parameter, parsed), parsed);
  }

  /** GetParameterHistory: every version, oldest first (copies). */
  getParameterHistory(name: string): StoredParameter[] {
    checkParameterName(name);
    const parameter = this.#find([name]);
    return parameter.versions.map((v) => view(parameter, v));
  }

  #find(candidates: readonly string[]): Parameter {
    for (const name of candidates) {
      const parameter = this.#parameters.get(name);
      if (parameter) return parameter;
    }
    // SSM's ParameterNotFound carries no message.
    throw new ServiceError("ParameterNotFound", "");
  }
}

function selectVersion(
  parameter: Parameter,
  reference: ParameterReference,
): Version {
  const selector = reference.selector;
  if (selector === undefined) return parameter.versions.at(-1)!;
  if ("version" in selector) return versionOf(parameter, selector.version);
  const labelled = parameter.versions.find((v) =>
    v.labels.includes(selector.label)
  );
  if (!labelled) {
    throw new ServiceError(
      "ParameterVersionNotFound",
      `Systems Manager could not find label ${selector.label} of ${parameter.name}. Verify the label and try again.`,
    );
  }
  return labelled;
}

function versionOf(parameter: Parameter, version: number): Version {
  const found = parameter.versions.find((v) => v.version === version);
  if (!found) {
    throw new ServiceError(
      "ParameterVersionNotFound",
      `Systems Manager could not find version ${version} of ${parameter.name}. Verify the version and try again.`,
    );
  }
  return found;
}

function view(
  parameter: Parameter,
  version: Version,
  reference?: ParameterReference,
): StoredParameter {
  return {
    name: parameter.name,
    arn: parameter.arn,
    type: version.type,
    value: version.value,
    version: version.version,
    lastModifiedDateMs: version.lastModifiedDateMs,
    labels: [...version.labels],
    dataType: "text",
    ...(reference?.selectorText === undefined
      ? {}
      : { selector: reference.selectorText }),
  };
}
