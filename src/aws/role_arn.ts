/**
 * What an IAM role ARN looks like, as STS AssumeRole takes it: the one check
 * for the `roleArn` request parameter and the `role_arn` of a `[[file]]`
 * entry.
 *
 * @module
 */

const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@\/-]{1,512}$/;

/** The shape the messages name when a role ARN is refused. */
export const ROLE_ARN_FORMAT = "arn:<partition>:iam::<account>:role/<name>";

/** Whether `value` is an IAM role ARN. */
export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value);
}
