/**
 * The hosts of `aws_hosts.ts` against the SDK's own endpoint rules: each
 * client's `endpointProvider` is asked directly, so no request is sent.
 */

import assert from "node:assert/strict";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import {
  AWS_REGIONS,
  awsHost,
  type AwsService,
  type EndpointVariant,
} from "../../src/sandbox/aws_hosts.ts";
import { packageFolder } from "./_sdk_packages.ts";

const REGIONS = [
  "us-east-1",
  "eu-west-1",
  "ap-southeast-7",
  "cn-north-1",
  "cn-northwest-1",
  "us-gov-west-1",
  "us-iso-east-1",
];

const VARIANTS: readonly EndpointVariant[] = [false, true].flatMap((useFips) =>
  [false, true].map((useDualStack) => ({ useFips, useDualStack }))
);

const CREDENTIALS = { accessKeyId: "a", secretAccessKey: "b" };

/** The part of an SDK client this test uses. */
interface EndpointClient {
  readonly config: {
    endpointProvider(params: Record<string, unknown>): { url: URL };
  };
  destroy(): void;
}

type ClientFactory = (
  region: string,
  variant: EndpointVariant,
) => EndpointClient;

function options(region: string, variant: EndpointVariant) {
  return {
    region,
    useFipsEndpoint: variant.useFips,
    useDualstackEndpoint: variant.useDualStack,
    credentials: CREDENTIALS,
  };
}

const CLIENTS: Record<"secretsmanager" | "sts" | "ssm", ClientFactory> = {
  secretsmanager: (region, variant) =>
    new SecretsManagerClient(options(region, variant)),
  sts: (region, variant) => new STSClient(options(region, variant)),
  ssm: (region, variant) => new SSMClient(options(region, variant)),
};

/** The SDK's host:port for a service, or undefined when it refuses the variant. */
function sdkHost(
  service: keyof typeof CLIENTS,
  region: string,
  variant: EndpointVariant,
): string | undefined {
  const client = CLIENTS[service](region, variant);
  try {
    const { url } = client.config.endpointProvider({
      Region: region,
      UseFIPS: variant.useFips,
      UseDualStack: variant.useDualStack,
    });
    return `${url.hostname}:${url.port || "443"}`;
  } catch {
    // The SDK refuses some variants in some partitions: nothing to grant.
    return undefined;
  } finally {
    client.destroy();
  }
}

function describe(variant: EndpointVariant): string {
  return `fips=${variant.useFips} dualstack=${variant.useDualStack}`;
}

for (const service of Object.keys(CLIENTS) as (keyof typeof CLIENTS)[]) {
  Deno.test(`${service} hosts are the SDK's for every region and FIPS/dual-stack variant`, () => {
    let compared = 0;
    for (const region of REGIONS) {
      for (const variant of VARIANTS) {
        const expected = sdkHost(service, region, variant);
        if (expected === undefined) continue;
        compared++;
        assert.equal(
          awsHost(service, region, variant),
          expected,
          `${service} in ${region}, ${describe(variant)}`,
        );
      }
    }
    // Most combinations resolve; a test that skipped them all proves nothing.
    assert.ok(compared >= REGIONS.length * 2, `only ${compared} compared`);
  });
}

Deno.test("every region of AWS_REGIONS resolves to an amazonaws.com host in the SDK", () => {
  const plain = { useFips: false, useDualStack: false };
  for (const region of AWS_REGIONS) {
    for (const service of ["secretsmanager", "sts"] as const) {
      const host = sdkHost(service, region, plain);
      assert.equal(host, `${service}.${region}.amazonaws.com:443`, region);
      assert.equal(awsHost(service, region, plain), host);
    }
  }
});

Deno.test("AWS_REGIONS holds exactly the regions of the SDK's aws partition", async () => {
  const folder = await packageFolder("@aws-sdk/core");
  const text = await Deno.readTextFile(
    `${folder}/dist-cjs/submodules/client/index.js`,
  );
  const marker = "const partitionsInfo = ";
  const start = text.indexOf(marker);
  assert.notEqual(start, -1, "the SDK's partitions table was not found");
  const end = text.indexOf("\n};\n", start) + 2;
  const table = JSON.parse(text.slice(start + marker.length, end)) as {
    partitions: { id: string; regions: Record<string, unknown> }[];
  };
  const aws = table.partitions.find((partition) => partition.id === "aws");
  assert.ok(aws !== undefined);
  // aws-global is a signing pseudo-region, never a host the agent calls.
  const regions = Object.keys(aws.regions).filter((name) =>
    name !== "aws-global"
  );
  assert.deepEqual([...AWS_REGIONS].sort(), regions.sort());
});

// IAM Identity Center's clients are internal to the SDK's credential chain
// (nested-clients), so their resolvers cannot be asked directly; their rules
// are compared with Systems Manager's, which the tests above check.
for (
  const [service, submodule, name] of [
    ["sso", "sso", "portal.sso"],
    ["oidc", "sso-oidc", "oidc"],
  ] as const
) {
  Deno.test(`${service} endpoint rules are Systems Manager's under the name ${name}`, async () => {
    const nested = await packageFolder("@aws-sdk/nested-clients");
    const ssm = await packageFolder("@aws-sdk/client-ssm");
    const rules = await Deno.readTextFile(
      `${nested}/dist-es/submodules/${submodule}/endpoint/bdd.js`,
    );
    const ssmRules = await Deno.readTextFile(`${ssm}/dist-es/endpoint/bdd.js`);
    assert.equal(
      rules.replaceAll(`https://${name}`, "https://SERVICE"),
      ssmRules.replaceAll("https://ssm", "https://SERVICE"),
    );
  });

  Deno.test(`${service} hosts follow the Systems Manager rules under the name ${name}`, () => {
    for (const region of REGIONS) {
      for (const variant of VARIANTS) {
        const ssmHost = sdkHost("ssm", region, variant);
        if (ssmHost === undefined) continue;
        assert.equal(
          awsHost(service as AwsService, region, variant),
          ssmHost.replace(/^ssm/, name),
          `${service} in ${region}, ${describe(variant)}`,
        );
      }
    }
  });
}
