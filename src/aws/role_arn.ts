/**
 * IAM role ARNs as STS AssumeRole takes them, checked the same way wherever
 * one is given: a request's `roleArn`, a warm-up entry's `role_arn`.
 *
 * @module
 */

const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@\/-]{1,512}$/;

/** The successor agent's words for a malformed roleArn, so its clients match. */
export const INVALID_ROLE_ARN =
  "invalid roleArn format, expected arn:<partition>:iam::<account>:role/<name>";

/** Whether `value` is a role ARN of any partition. */
export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value);
}
