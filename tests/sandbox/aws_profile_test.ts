import assert from "node:assert/strict";
import {
  type AwsFilePaths,
  awsFilePaths,
  ownCredentialProcess,
  readProfile,
} from "../../src/aws/profile.ts";

/**
 * Writes a config and a credentials file in a fresh folder (the SDK's file
 * loader caches by path, so every test gets its own) and reads the profile.
 */
async function profileOf(
  files: { config?: string; credentials?: string },
  env: Record<string, string> = {},
): Promise<ProfileFacts> {
  const folder = await Deno.makeTempDir({ prefix: "aws_profile_test_" });
  try {
    const paths: AwsFilePaths = {
      configFile: `${folder}/config`,
      credentialsFile: `${folder}/credentials`,
    };
    if (files.config !== undefined) {
      await Deno.writeTextFile(paths.configFile!, files.config);
    }
    if (files.credentials !== undefined) {
      await Deno.writeTextFile(paths.credentialsFile!, files.credentials);
    }
    return await readProfile(env, paths);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

import type { ProfileFacts } from "../../src/sandbox/deployment.ts";
import { NO_PROFILE } from "./_profile.ts";

const CONFIG = `[default]
region = us-east-1

[profile app]
region = eu-west-1
`;

// readProfile

Deno.test("readProfile reads the default profile without AWS_PROFILE", async () => {
  assert.deepEqual(await profileOf({ config: CONFIG }), {
    ...NO_PROFILE,
    region: "us-east-1",
  });
});

Deno.test("readProfile reads the profile AWS_PROFILE names, [profile x] in config and [x] in credentials", async () => {
  const profile = await profileOf({
    config: CONFIG,
    credentials:
      "[app]\naws_access_key_id = AKID\naws_secret_access_key = secret\n",
  }, { AWS_PROFILE: "app" });
  assert.equal(profile.name, "app");
  assert.equal(profile.region, "eu-west-1");
  assert.equal(profile.hasStaticKeys, true);
});

Deno.test("readProfile treats an empty AWS_PROFILE as the default profile", async () => {
  const profile = await profileOf({ config: CONFIG }, { AWS_PROFILE: "" });
  assert.equal(profile.name, "default");
  assert.equal(profile.region, "us-east-1");
});

Deno.test("readProfile ignores a config section without the 'profile ' prefix, as the SDK does", async () => {
  const profile = await profileOf(
    { config: "[app]\nregion = eu-west-1\n" },
    { AWS_PROFILE: "app" },
  );
  assert.equal(profile.region, undefined);
});

Deno.test("readProfile lets the credentials file override the config file for the same key", async () => {
  const profile = await profileOf({
    config: "[default]\ncredential_process = /opt/bin/from-config\n",
    credentials:
      "[default]\ncredential_process = /opt/bin/from-credentials --x\n",
  });
  assert.deepEqual(profile.credentialProcess, [
    "/opt/bin/from-credentials",
    "--x",
  ]);
});

Deno.test("readProfile counts missing files as empty", async () => {
  assert.deepEqual(await profileOf({}), NO_PROFILE);
});

Deno.test("readProfile follows source_profile from a role to the profiles holding its credentials", async () => {
  const profile = await profileOf({
    config: `[profile app]
role_arn = arn:aws:iam::123456789012:role/app
source_profile = middle
region = eu-west-1

[profile middle]
role_arn = arn:aws:iam::123456789012:role/middle
source_profile = base

[profile base]
credential_process = "/opt/my tools/creds" --base
`,
  }, { AWS_PROFILE: "app" });
  assert.equal(profile.assumesRole, true);
  assert.equal(profile.hasStaticKeys, false);
  assert.deepEqual(profile.credentialProcess, [
    "/opt/my tools/creds",
    "--base",
  ]);
  // The region is the named profile's own.
  assert.equal(profile.region, "eu-west-1");
});

Deno.test("readProfile finds static keys in a source profile and stops at a loop", async () => {
  const profile = await profileOf({
    config: `[profile app]
role_arn = arn:aws:iam::123456789012:role/app
source_profile = base

[profile base]
role_arn = arn:aws:iam::123456789012:role/base
source_profile = app
`,
    credentials:
      "[base]\naws_access_key_id = AKID\naws_secret_access_key = secret\n",
  }, { AWS_PROFILE: "app" });
  assert.equal(profile.assumesRole, true);
  assert.equal(profile.hasStaticKeys, true);
});

Deno.test("readProfile does not follow source_profile without role_arn", async () => {
  const profile = await profileOf({
    config:
      "[default]\nsource_profile = base\n\n[profile base]\ncredential_process = creds\n",
  });
  assert.equal(profile.assumesRole, false);
  assert.equal(profile.credentialProcess, undefined);
});

Deno.test("readProfile reads the SSO region from the profile's sso-session section", async () => {
  const profile = await profileOf({
    config: `[default]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Reader

[sso-session corp]
sso_region = eu-central-1
sso_start_url = https://corp.awsapps.com/start
`,
  });
  assert.equal(profile.ssoRegion, "eu-central-1");
});

Deno.test("readProfile reads the SSO region of a legacy profile with sso_start_url", async () => {
  const profile = await profileOf({
    config: `[default]
sso_start_url = https://corp.awsapps.com/start
sso_region = ap-southeast-2
`,
  });
  assert.equal(profile.ssoRegion, "ap-southeast-2");
});

Deno.test("readProfile reports no SSO region for a profile that does not sign in with SSO", async () => {
  const profile = await profileOf({
    config: "[default]\nsso_region = us-east-1\n",
  });
  assert.equal(profile.ssoRegion, undefined);
});

Deno.test("readProfile reads endpoint_url, the services section's endpoint URLs and the endpoint settings", async () => {
  const profile = await profileOf({
    config: `[default]
services = local
endpoint_url = https://all.example
use_fips_endpoint = true
use_dualstack_endpoint = true
web_identity_token_file = /var/run/token
credential_source = Ec2InstanceMetadata

[services local]
secrets_manager =
  endpoint_url = https://sm.example:8443
sts =
  endpoint_url = http://sts.example
`,
  });
  assert.deepEqual(profile.endpointUrls, [
    "https://all.example",
    "https://sm.example:8443",
    "http://sts.example",
  ]);
  assert.equal(profile.useFipsEndpoint, true);
  assert.equal(profile.useDualStackEndpoint, true);
  assert.equal(profile.webIdentityTokenFile, "/var/run/token");
  assert.equal(profile.credentialSource, "Ec2InstanceMetadata");
});

Deno.test("readProfile reads no endpoint URLs when the services section is missing", async () => {
  const profile = await profileOf({ config: "[default]\nservices = absent\n" });
  assert.deepEqual(profile.endpointUrls, []);
});

// awsFilePaths

Deno.test("awsFilePaths defaults to ~/.aws/config and ~/.aws/credentials", () => {
  assert.deepEqual(awsFilePaths({ HOME: "/home/u" }, "/srv/agent"), {
    configFile: "/home/u/.aws/config",
    credentialsFile: "/home/u/.aws/credentials",
  });
});

Deno.test("awsFilePaths takes AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE absolute, relative or from ~/", () => {
  const home = { HOME: "/home/u" };
  assert.deepEqual(
    awsFilePaths(
      {
        ...home,
        AWS_CONFIG_FILE: "/etc/aws/config",
        AWS_SHARED_CREDENTIALS_FILE: "aws/creds",
      },
      "/srv/agent",
    ),
    { configFile: "/etc/aws/config", credentialsFile: "/srv/agent/aws/creds" },
  );
  assert.deepEqual(
    awsFilePaths({ ...home, AWS_CONFIG_FILE: "~/other/config" }, "/srv/agent")
      .configFile,
    "/home/u/other/config",
  );
});

Deno.test("awsFilePaths without HOME has no default files, and no ~/ files", () => {
  for (const env of [{}, { HOME: "" }]) {
    assert.deepEqual(awsFilePaths(env, "/srv/agent"), {
      configFile: undefined,
      credentialsFile: undefined,
    });
  }
  assert.deepEqual(
    awsFilePaths(
      {
        AWS_CONFIG_FILE: "/etc/aws/config",
        AWS_SHARED_CREDENTIALS_FILE: "~/creds",
      },
      "/srv/agent",
    ),
    { configFile: "/etc/aws/config", credentialsFile: undefined },
  );
});

Deno.test("awsFilePaths treats an empty variable as unset", () => {
  assert.equal(
    awsFilePaths({ HOME: "/home/u", AWS_CONFIG_FILE: "" }, "/srv/agent")
      .configFile,
    "/home/u/.aws/config",
  );
});

// ownCredentialProcess

const WITH_PROCESS: ProfileFacts = {
  ...NO_PROFILE,
  credentialProcess: ["creds", "--x"],
};
const ENV_KEYS = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret" };

Deno.test("ownCredentialProcess is the profile's credential_process when nothing comes before it", () => {
  assert.deepEqual(ownCredentialProcess(WITH_PROCESS, {}), ["creds", "--x"]);
  assert.equal(ownCredentialProcess(NO_PROFILE, {}), undefined);
});

Deno.test("ownCredentialProcess yields to keys in the environment, unless AWS_PROFILE is set", () => {
  assert.equal(ownCredentialProcess(WITH_PROCESS, ENV_KEYS), undefined);
  // The SDK skips the environment's keys when a profile is named.
  assert.deepEqual(
    ownCredentialProcess(WITH_PROCESS, { ...ENV_KEYS, AWS_PROFILE: "app" }),
    ["creds", "--x"],
  );
  // One key alone is not credentials.
  assert.deepEqual(
    ownCredentialProcess(WITH_PROCESS, { AWS_ACCESS_KEY_ID: "AKID" }),
    ["creds", "--x"],
  );
});

Deno.test("ownCredentialProcess yields to the profile's keys and to a role", () => {
  assert.equal(
    ownCredentialProcess({ ...WITH_PROCESS, hasStaticKeys: true }, {}),
    undefined,
  );
  assert.equal(
    ownCredentialProcess({ ...WITH_PROCESS, assumesRole: true }, {}),
    undefined,
  );
});

Deno.test("ownCredentialProcess comes before the profile's SSO settings, as in the SDK", () => {
  assert.deepEqual(
    ownCredentialProcess({ ...WITH_PROCESS, ssoRegion: "us-east-1" }, {}),
    ["creds", "--x"],
  );
});
