/**
 * What an IAM role ARN looks like, as STS AssumeRole takes it: the one check
 * for the `roleArn` request parameter, a warm-up entry's `role_arn` and the
 * `role_arn` of a `[[file]]` entry.
 *
 * @module
 */

const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@\/-]{1,512}$/;

/** The shape the messages name when a role ARN is refused. */
export const ROLE_ARN_FORMAT = "arn:<partition>:iam::<account>:role/<name>";

/** The successor agent's words for a malformed roleArn, so its clients match. */
export const INVALID_ROLE_ARN =
  `invalid roleArn format, expected ${ROLE_ARN_FORMAT}`;

/** Whether `value` is an IAM role ARN of any partition. */
export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value);
}
