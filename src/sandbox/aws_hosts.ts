/**
 * The exact AWS host names the agent calls, by service and region: what the
 * SDK's endpoint rules give for Secrets Manager, STS, Systems Manager and
 * IAM Identity Center (SSO) in each partition, with FIPS and dual-stack
 * variants. `tests/sandbox/aws_hosts_test.ts` checks them against the SDK's
 * own endpoint resolver, so a rule change in an SDK upgrade fails a test.
 *
 * @module
 */

/** An AWS partition: the regions it holds and its DNS suffixes. */
interface Partition {
  readonly id: string;
  readonly regionPattern: RegExp;
  readonly dnsSuffix: string;
  readonly dualStackDnsSuffix: string;
}

// From the SDK's partitions table (@aws-sdk/core); the first match wins, and
// an unknown region falls back to "aws", as the SDK does.
const PARTITIONS: readonly Partition[] = [
  {
    id: "aws-cn",
    regionPattern: /^cn-\w+-\d+$/,
    dnsSuffix: "amazonaws.com.cn",
    dualStackDnsSuffix: "api.amazonwebservices.com.cn",
  },
  {
    id: "aws-us-gov",
    regionPattern: /^us-gov-\w+-\d+$/,
    dnsSuffix: "amazonaws.com",
    dualStackDnsSuffix: "api.aws",
  },
  {
    id: "aws-iso",
    regionPattern: /^us-iso-\w+-\d+$/,
    dnsSuffix: "c2s.ic.gov",
    dualStackDnsSuffix: "api.aws.ic.gov",
  },
  {
    id: "aws-iso-b",
    regionPattern: /^us-isob-\w+-\d+$/,
    dnsSuffix: "sc2s.sgov.gov",
    dualStackDnsSuffix: "api.aws.scloud",
  },
  {
    id: "aws-iso-e",
    regionPattern: /^eu-isoe-\w+-\d+$/,
    dnsSuffix: "cloud.adc-e.uk",
    dualStackDnsSuffix: "api.cloud-aws.adc-e.uk",
  },
  {
    id: "aws-iso-f",
    regionPattern: /^us-isof-\w+-\d+$/,
    dnsSuffix: "csp.hci.ic.gov",
    dualStackDnsSuffix: "api.aws.hci.ic.gov",
  },
  {
    id: "aws-eusc",
    regionPattern: /^eusc-de-\w+-\d+$/,
    dnsSuffix: "amazonaws.eu",
    dualStackDnsSuffix: "api.amazonwebservices.eu",
  },
];

const AWS_PARTITION: Partition = {
  id: "aws",
  regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
  dnsSuffix: "amazonaws.com",
  dualStackDnsSuffix: "api.aws",
};

/**
 * The regions of the `aws` partition, granted all at once when the region is
 * only learned at run time (from instance metadata): `--allow-net` takes
 * `*.amazonaws.com` but not `secretsmanager.*`, and the wildcard would admit
 * any S3 bucket or load balancer name.
 */
export const AWS_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "me-west-1",
  "mx-central-1",
  "sa-east-1",
  "sa-west-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
];

/** The services whose hosts the agent may call. */
export type AwsService = "secretsmanager" | "sts" | "ssm" | "sso" | "oidc";

/** Which endpoint variant the SDK is set to use. */
export interface EndpointVariant {
  readonly useFips: boolean;
  readonly useDualStack: boolean;
}

function partitionOf(region: string): Partition {
  return PARTITIONS.find((partition) => partition.regionPattern.test(region)) ??
    AWS_PARTITION;
}

/**
 * The host (with port 443) a service is called at in a region, as the SDK's
 * endpoint rules build it: `<service>[-fips].<region>.<suffix>`.
 *
 * @example
 * ```ts
 * awsHost("secretsmanager", "cn-north-1", { useFips: false, useDualStack: false });
 * // "secretsmanager.cn-north-1.amazonaws.com.cn:443"
 * ```
 */
export function awsHost(
  service: AwsService,
  region: string,
  variant: EndpointVariant,
): string {
  const partition = partitionOf(region);
  const name = service === "sso" ? "portal.sso" : service;
  return `${name}${fipsSuffix(service, partition, variant)}.${region}.${
    dnsSuffix(service, partition, variant)
  }:443`;
}

function fipsSuffix(
  service: AwsService,
  partition: Partition,
  variant: EndpointVariant,
): string {
  if (!variant.useFips) return "";
  // GovCloud's endpoints other than Secrets Manager's are FIPS validated
  // under their plain names, except for the dual-stack ones.
  const isGovPlain = partition.id === "aws-us-gov" &&
    service !== "secretsmanager" && !variant.useDualStack;
  return isGovPlain ? "" : "-fips";
}

function dnsSuffix(
  service: AwsService,
  partition: Partition,
  variant: EndpointVariant,
): string {
  if (!variant.useDualStack) return partition.dnsSuffix;
  // Secrets Manager's standard names are dual-stack already in aws and
  // aws-us-gov (FIPS or not) and in aws-cn (without FIPS).
  if (service === "secretsmanager") {
    if (partition.id === "aws" || partition.id === "aws-us-gov") {
      return partition.dnsSuffix;
    }
    if (partition.id === "aws-cn" && !variant.useFips) {
      return partition.dnsSuffix;
    }
  }
  return partition.dualStackDnsSuffix;
}
