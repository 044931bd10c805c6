/**
 * Secrets Manager's staging-label rules: a label sits on at most one version
 * of a secret, and moving AWSCURRENT leaves AWSPREVIOUS behind.
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** A version as far as labels are concerned. */
export interface LabelledVersion {
  readonly versionId: string;
  stages: string[];
}

/** The label every reader gets by default. */
export const CURRENT = "AWSCURRENT";
/** The label AWSCURRENT leaves behind when it moves. */
export const PREVIOUS = "AWSPREVIOUS";

/** Moves `stage` onto `target`, taking it from whichever version holds it. */
export function attachLabel(
  versions: Iterable<LabelledVersion>,
  stage: string,
  target: LabelledVersion,
): void {
  const all = [...versions];
  for (const version of all) {
    if (version === target || !version.stages.includes(stage)) continue;
    version.stages = version.stages.filter((s) => s !== stage);
    if (stage === CURRENT) {
      for (const other of all) {
        other.stages = other.stages.filter((s) => s !== PREVIOUS);
      }
      version.stages.push(PREVIOUS);
    }
  }
  if (!target.stages.includes(stage)) target.stages.push(stage);
}

/** UpdateSecretVersionStage on `versions`, with AWS's checks and messages. */
export function updateLabel(
  versions: ReadonlyMap<string, LabelledVersion>,
  stage: string,
  options: {
    moveToVersionId?: string;
    removeFromVersionId?: string;
    secretName: string;
  },
): void {
  const { moveToVersionId, removeFromVersionId } = options;
  const holder = [...versions.values()].find((v) => v.stages.includes(stage));
  for (const id of [moveToVersionId, removeFromVersionId]) {
    if (id !== undefined && !versions.has(id)) {
      throw ServiceError.invalidParameter(
        `The version ${id} doesn't exist for the secret ${options.secretName}.`,
      );
    }
  }
  if (
    removeFromVersionId !== undefined &&
    holder?.versionId !== removeFromVersionId
  ) {
    throw ServiceError.invalidParameter(
      `The staging label ${stage} is not attached to version ${removeFromVersionId}.`,
    );
  }
  if (
    holder && moveToVersionId !== undefined &&
    holder.versionId !== moveToVersionId && removeFromVersionId === undefined
  ) {
    throw ServiceError.invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
  if (moveToVersionId !== undefined) {
    attachLabel(versions.values(), stage, versions.get(moveToVersionId)!);
  } else if (holder) {
    if (stage === CURRENT) {
      throw ServiceError.invalidParameter(
        "You can't remove the staging label AWSCURRENT from a version without moving it to another version.",
      );
    }
    holder.stages = holder.stages.filter((s) => s !== stage);
  }
}
