/**
 * computeGrants: the exact files, hosts, variables and programs one
 * deployment needs, from deployments built directly (no I/O).
 */

import assert from "node:assert/strict";
import {
  type Config,
  DEFAULT_CONFIG,
  type SecretFile,
} from "../../src/config/config.ts";
import { AWS_REGIONS } from "../../src/sandbox/aws_hosts.ts";
import type {
  Deployment,
  FolderFound,
  ProfileFacts,
} from "../../src/sandbox/deployment.ts";
import {
  computeGrants,
  type GrantKind,
  type Grants,
  SandboxError,
} from "../../src/sandbox/grants.ts";
import { SDK_ENVIRONMENT } from "../../src/sandbox/sdk_environment.ts";

import { NO_PROFILE } from "./_profile.ts";

const WORKING_DIRECTORY = "/srv/agent";
const HOME = "/home/u";
const IMDS = "169.254.169.254:80";
const ECS = "169.254.170.2:80";

interface DeploymentOptions {
  readonly config?: Partial<Config>;
  readonly env?: Record<string, string>;
  readonly profile?: Partial<ProfileFacts>;
  readonly configPath?: string;
  readonly home?: string;
  readonly credentialProgram?: string;
  /** What the grants step found at each `[[file]]` folder; default a folder each. */
  readonly fileFolders?: Record<string, FolderFound>;
}

/** A deployment of the defaults, changed where the test says. */
function deployment(options: DeploymentOptions = {}): Deployment {
  const home = "home" in options ? options.home : HOME;
  return {
    config: { ...DEFAULT_CONFIG, ...options.config },
    configPath: options.configPath,
    workingDirectory: WORKING_DIRECTORY,
    env: options.env ?? {},
    home,
    awsConfigFile: home === undefined ? undefined : `${home}/.aws/config`,
    awsCredentialsFile: home === undefined
      ? undefined
      : `${home}/.aws/credentials`,
    profile: { ...NO_PROFILE, ...options.profile },
    credentialProgram: options.credentialProgram,
    fileFolders: new Map(
      Object.entries(
        options.fileFolders ??
          Object.fromEntries(
            (options.config?.files ?? []).map(({ path }) => [
              path.slice(0, path.lastIndexOf("/")),
              "folder" as const,
            ]),
          ),
      ),
    ),
  };
}

/** A `[[file]]` entry writing `path`. */
function fileAt(path: string): SecretFile {
  return { secretId: "prod/db", path, mode: 0o600 };
}

function values(grants: Grants, kind: GrantKind): string[] {
  return grants[kind].map((grant) => grant.value);
}

function grantsOf(options: DeploymentOptions = {}): Grants {
  return computeGrants(deployment(options));
}

function net(options: DeploymentOptions = {}): string[] {
  return values(grantsOf(options), "net");
}

/** The net entries other than the listening address. */
function upstream(options: DeploymentOptions = {}): string[] {
  return net(options).filter((value) => value !== "127.0.0.1:2773");
}

function host(
  service: string,
  region: string,
  suffix = "amazonaws.com",
): string {
  return `${service}.${region}.${suffix}:443`;
}

function regionHosts(region: string): string[] {
  return [host("secretsmanager", region), host("sts", region)];
}

// Region

Deno.test("without a region every aws partition region's Secrets Manager and STS hosts and IMDS are granted, with a note", () => {
  const grants = grantsOf();
  assert.equal(grants.notes.length, 1);
  assert.match(grants.notes[0], /region is learned at run time/);
  const expected = [
    ...AWS_REGIONS.map((region) => host("secretsmanager", region)),
    ...AWS_REGIONS.map((region) => host("sts", region)),
  ];
  assert.deepEqual(
    values(grants, "net").sort(),
    ["127.0.0.1:2773", IMDS, ...expected].sort(),
  );
});

Deno.test("a region from the config, AWS_REGION or the profile grants only that region's two hosts", () => {
  const cases: DeploymentOptions[] = [
    { config: { region: "eu-west-1" } },
    { env: { AWS_REGION: "eu-west-1" } },
    { profile: { region: "eu-west-1" } },
    // The config file wins over the environment, which wins over the profile.
    { config: { region: "eu-west-1" }, env: { AWS_REGION: "us-east-2" } },
    { env: { AWS_REGION: "eu-west-1" }, profile: { region: "us-east-2" } },
  ];
  for (const options of cases) {
    const grants = grantsOf(options);
    assert.deepEqual(grants.notes, []);
    // No credentials configured: instance metadata stays, for credentials.
    assert.deepEqual(upstream(options), [...regionHosts("eu-west-1"), IMDS]);
  }
});

Deno.test("an empty AWS_REGION counts as no region", () => {
  assert.equal(grantsOf({ env: { AWS_REGION: "" } }).notes.length, 1);
});

Deno.test("parameter_store adds the Systems Manager host", () => {
  assert.deepEqual(
    upstream({ config: { region: "eu-west-1", parameterStore: true } }),
    [...regionHosts("eu-west-1"), host("ssm", "eu-west-1"), IMDS],
  );
});

Deno.test("China and GovCloud regions get their partition's hosts", () => {
  assert.deepEqual(upstream({ config: { region: "cn-north-1" } }), [
    host("secretsmanager", "cn-north-1", "amazonaws.com.cn"),
    host("sts", "cn-north-1", "amazonaws.com.cn"),
    IMDS,
  ]);
  assert.deepEqual(upstream({ config: { region: "us-gov-west-1" } }), [
    ...regionHosts("us-gov-west-1"),
    IMDS,
  ]);
});

// FIPS and dual-stack

Deno.test("use_fips_endpoint grants the FIPS hosts of Secrets Manager, STS and Systems Manager", () => {
  assert.deepEqual(
    upstream({
      config: {
        region: "us-east-1",
        useFipsEndpoint: true,
        parameterStore: true,
      },
    }),
    [
      host("secretsmanager-fips", "us-east-1"),
      host("sts-fips", "us-east-1"),
      host("ssm-fips", "us-east-1"),
      IMDS,
    ],
  );
  // GovCloud's STS is FIPS validated under its plain name.
  assert.deepEqual(
    upstream({ config: { region: "us-gov-west-1", useFipsEndpoint: true } }),
    [
      host("secretsmanager-fips", "us-gov-west-1"),
      host("sts", "us-gov-west-1"),
      IMDS,
    ],
  );
});

Deno.test("AWS_USE_FIPS_ENDPOINT or a profile's use_fips_endpoint leaves the agent's own clients on the standard hosts", () => {
  // The agent passes use_fips_endpoint to its clients, which overrides the SDK's settings.
  for (
    const options of [
      { env: { AWS_USE_FIPS_ENDPOINT: "true" } },
      { profile: { useFipsEndpoint: true } },
    ]
  ) {
    assert.deepEqual(
      upstream({ ...options, config: { region: "us-east-1" } }),
      [...regionHosts("us-east-1"), IMDS],
    );
  }
});

Deno.test("the credential chain's STS follows AWS_USE_FIPS_ENDPOINT, not use_fips_endpoint", () => {
  const webIdentity = {
    AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token",
    AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/agent",
  };
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1" },
      env: { ...webIdentity, AWS_USE_FIPS_ENDPOINT: "true" },
    }),
    [
      host("secretsmanager", "us-east-1"),
      host("sts", "us-east-1"),
      host("sts-fips", "us-east-1"),
    ],
  );
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1", useFipsEndpoint: true },
      profile: { assumesRole: true, hasStaticKeys: true },
    }),
    [
      host("secretsmanager-fips", "us-east-1"),
      host("sts-fips", "us-east-1"),
      host("sts", "us-east-1"),
    ],
  );
});

Deno.test("AWS_USE_DUALSTACK_ENDPOINT or a profile's use_dualstack_endpoint grants the dual-stack hosts", () => {
  for (
    const options of [
      { env: { AWS_USE_DUALSTACK_ENDPOINT: "true" } },
      { profile: { useDualStackEndpoint: true } },
    ]
  ) {
    assert.deepEqual(
      upstream({
        ...options,
        config: { region: "us-east-1", parameterStore: true },
      }),
      [
        // Secrets Manager's standard name is dual-stack already.
        host("secretsmanager", "us-east-1"),
        host("sts", "us-east-1", "api.aws"),
        host("ssm", "us-east-1", "api.aws"),
        IMDS,
      ],
    );
  }
  assert.deepEqual(
    upstream({
      config: { region: "cn-north-1", useFipsEndpoint: true },
      env: { AWS_USE_DUALSTACK_ENDPOINT: "true" },
    }),
    [
      host("secretsmanager-fips", "cn-north-1", "api.amazonwebservices.com.cn"),
      host("sts-fips", "cn-north-1", "api.amazonwebservices.com.cn"),
      IMDS,
    ],
  );
});

Deno.test("AWS_USE_DUALSTACK_ENDPOINT=false overrides the profile's setting, as in the SDK", () => {
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1" },
      env: { AWS_USE_DUALSTACK_ENDPOINT: "false" },
      profile: { useDualStackEndpoint: true },
    }),
    [...regionHosts("us-east-1"), IMDS],
  );
});

// Configured endpoints

Deno.test("AWS_ENDPOINT_URL_SECRETS_MANAGER replaces the Secrets Manager host with the URL's host and port", () => {
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1" },
      env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:4566/" },
    }),
    ["127.0.0.1:4566", host("sts", "us-east-1"), IMDS],
  );
});

Deno.test("AWS_ENDPOINT_URL replaces every service's host, with the scheme's default port", () => {
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1", parameterStore: true },
      env: { AWS_ENDPOINT_URL: "https://aws.internal.example" },
    }),
    ["aws.internal.example:443", IMDS],
  );
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1" },
      env: {
        AWS_ENDPOINT_URL: "http://aws.internal.example",
        AWS_ENDPOINT_URL_STS: "https://sts.internal.example:8443",
      },
    }),
    ["aws.internal.example:80", "sts.internal.example:8443", IMDS],
  );
});

Deno.test("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the endpoint URLs of the environment and the profile", () => {
  const options = {
    config: { region: "us-east-1" },
    profile: { endpointUrls: ["https://profile.example"] },
  };
  assert.deepEqual(
    upstream({ ...options, env: { AWS_ENDPOINT_URL: "https://env.example" } }),
    ["env.example:443", "profile.example:443", IMDS],
  );
  assert.deepEqual(
    upstream({
      ...options,
      env: {
        AWS_ENDPOINT_URL: "https://env.example",
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
      },
    }),
    [...regionHosts("us-east-1"), IMDS],
  );
});

Deno.test("an endpoint URL that is not an http or https URL is a SandboxError", () => {
  for (const url of ["not a url", "ftp://files.example"]) {
    assert.throws(
      () => grantsOf({ env: { AWS_ENDPOINT_URL: url } }),
      (error) => error instanceof SandboxError && error.message.includes(url),
    );
  }
});

// Instance metadata and container credentials

Deno.test("credentials from the environment, the profile's keys, credentials_file_path or web identity need no IMDS when the region is known", () => {
  const sources: DeploymentOptions[] = [
    { env: { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret" } },
    { profile: { hasStaticKeys: true } },
    { config: { credentialsFilePath: "/etc/agent/credentials" } },
    { env: { AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token" } },
    { profile: { webIdentityTokenFile: "/var/run/token" } },
  ];
  for (const source of sources) {
    const known = net({
      ...source,
      config: { ...source.config, region: "us-east-1" },
    });
    assert.ok(!known.includes(IMDS), JSON.stringify(source));
    // Unknown, the region comes from instance metadata.
    assert.ok(net(source).includes(IMDS), JSON.stringify(source));
  }
});

Deno.test("keys in the environment do not stop the chain before IMDS when AWS_PROFILE is set", () => {
  // The SDK skips the environment's keys when a profile is named.
  assert.ok(
    net({
      config: { region: "us-east-1" },
      env: {
        AWS_PROFILE: "app",
        AWS_ACCESS_KEY_ID: "AKID",
        AWS_SECRET_ACCESS_KEY: "secret",
      },
    }).includes(IMDS),
  );
});

Deno.test("credential_source Ec2InstanceMetadata grants IMDS even with other credentials", () => {
  assert.ok(
    net({
      config: { region: "us-east-1" },
      profile: {
        hasStaticKeys: true,
        assumesRole: true,
        credentialSource: "Ec2InstanceMetadata",
      },
    }).includes(IMDS),
  );
});

Deno.test("AWS_EC2_METADATA_DISABLED=true never grants IMDS, even without a region", () => {
  const hosts = net({ env: { AWS_EC2_METADATA_DISABLED: "true" } });
  assert.ok(!hosts.some((value) => value.startsWith("169.254.169.254")));
});

Deno.test("the IPv6 endpoint mode grants the IPv6 IMDS address", () => {
  const hosts = net({
    env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" },
  });
  assert.ok(hosts.includes("[fd00:ec2::254]:80"));
  assert.ok(!hosts.includes(IMDS));
});

Deno.test("AWS_EC2_METADATA_SERVICE_ENDPOINT grants its host and port instead", () => {
  const hosts = net({
    env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1338" },
  });
  assert.ok(hosts.includes("127.0.0.1:1338"));
  assert.ok(!hosts.includes(IMDS));
});

Deno.test("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI grants the ECS credentials address and no IMDS", () => {
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1" },
      env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc" },
    }),
    [...regionHosts("us-east-1"), ECS],
  );
});

Deno.test("AWS_CONTAINER_CREDENTIALS_FULL_URI grants its host and port", () => {
  assert.deepEqual(
    upstream({
      config: { region: "us-east-1" },
      env: {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9911/creds",
      },
    }),
    [...regionHosts("us-east-1"), "127.0.0.1:9911"],
  );
});

Deno.test("credential_source EcsContainer grants the ECS credentials address", () => {
  assert.ok(
    net({
      config: { region: "us-east-1" },
      profile: { assumesRole: true, credentialSource: "EcsContainer" },
    }).includes(ECS),
  );
});

Deno.test("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is granted for reading", () => {
  const grants = grantsOf({
    env: { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/ecs-token" },
  });
  assert.ok(values(grants, "read").includes("/var/run/ecs-token"));
});

// Credential sources with files and programs

Deno.test("an SSO profile grants the SSO token cache and IAM Identity Center's hosts in the SSO region", () => {
  const grants = grantsOf({
    config: { region: "us-east-1" },
    profile: { ssoRegion: "eu-central-1" },
  });
  assert.ok(values(grants, "read").includes(`${HOME}/.aws/sso/cache`));
  assert.deepEqual(values(grants, "net").slice(1), [
    ...regionHosts("us-east-1"),
    host("portal.sso", "eu-central-1"),
    host("oidc", "eu-central-1"),
  ]);
});

Deno.test("IAM Identity Center's hosts follow AWS_USE_FIPS_ENDPOINT", () => {
  const hosts = net({
    config: { region: "us-east-1" },
    env: { AWS_USE_FIPS_ENDPOINT: "true" },
    profile: { ssoRegion: "us-east-1" },
  });
  assert.ok(hosts.includes(host("portal.sso-fips", "us-east-1")));
  assert.ok(hosts.includes(host("oidc-fips", "us-east-1")));
});

Deno.test("the web identity token file is granted for reading, relative to the working folder", () => {
  assert.ok(
    values(
      grantsOf({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token" } }),
      "read",
    )
      .includes("/var/run/token"),
  );
  assert.ok(
    values(grantsOf({ profile: { webIdentityTokenFile: "token" } }), "read")
      .includes(`${WORKING_DIRECTORY}/token`),
  );
});

Deno.test("a credential_process grants running exactly the program found", () => {
  const grants = grantsOf({
    profile: { credentialProcess: ["creds", "--profile", "app"] },
    credentialProgram: "/usr/local/bin/creds",
  });
  assert.deepEqual(values(grants, "run"), ["/usr/local/bin/creds"]);
});

Deno.test("a credential_process whose program was not found is a SandboxError naming it", () => {
  assert.throws(
    () => grantsOf({ profile: { credentialProcess: ["creds"] } }),
    (error) =>
      error instanceof SandboxError &&
      /credential_process program creds of AWS profile default was not found/
        .test(error.message),
  );
});

Deno.test("a credential_process the SDK never reaches grants no program", () => {
  const cases: DeploymentOptions[] = [
    { env: { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret" } },
    { profile: { credentialProcess: ["creds"], hasStaticKeys: true } },
    { config: { credentialsFilePath: "/etc/agent/credentials" } },
  ];
  for (const options of cases) {
    const grants = grantsOf({
      ...options,
      profile: { credentialProcess: ["creds"], ...options.profile },
    });
    assert.deepEqual(values(grants, "run"), [], JSON.stringify(options));
  }
});

Deno.test("a credential_process is run even with keys in the environment when AWS_PROFILE is set", () => {
  const grants = grantsOf({
    env: {
      AWS_PROFILE: "app",
      AWS_ACCESS_KEY_ID: "AKID",
      AWS_SECRET_ACCESS_KEY: "secret",
    },
    profile: { name: "app", credentialProcess: ["creds"] },
    credentialProgram: "/usr/local/bin/creds",
  });
  assert.deepEqual(values(grants, "run"), ["/usr/local/bin/creds"]);
});

Deno.test("a credential_process reached through a role is a SandboxError: the SDK runs it through a shell", () => {
  assert.throws(
    () =>
      grantsOf({
        profile: { assumesRole: true, credentialProcess: ["creds"] },
        credentialProgram: "/usr/local/bin/creds",
      }),
    (error) =>
      error instanceof SandboxError && /through \/bin\/sh/.test(error.message),
  );
});

// The agent's own files, variables and addresses

Deno.test("the configuration file and the AWS shared files are granted for reading", () => {
  const read = values(
    grantsOf({ configPath: "/srv/agent/config.toml" }),
    "read",
  );
  assert.deepEqual(read, [
    "/srv/agent/config.toml",
    "/srv/agent/logs",
    `${HOME}/.aws/config`,
    `${HOME}/.aws/credentials`,
  ]);
});

Deno.test("the SSRF token file of the first token variable set is granted for reading", () => {
  assert.ok(
    values(
      grantsOf({ env: { AWS_TOKEN: "file:///var/run/awssmatoken" } }),
      "read",
    )
      .includes("/var/run/awssmatoken"),
  );
  // AWS_TOKEN is unset, so AWS_SESSION_TOKEN is the token variable.
  assert.ok(
    values(
      grantsOf({ env: { AWS_SESSION_TOKEN: "file:///var/run/session" } }),
      "read",
    )
      .includes("/var/run/session"),
  );
});

Deno.test("a token variable without file:// grants no token file, even when a later one names a file", () => {
  const read = values(
    grantsOf({
      env: {
        AWS_TOKEN: "plain-token",
        AWS_SESSION_TOKEN: "file:///var/run/session",
      },
    }),
    "read",
  );
  assert.ok(!read.includes("/var/run/session"));
  assert.deepEqual(read, [
    "/srv/agent/logs",
    `${HOME}/.aws/config`,
    `${HOME}/.aws/credentials`,
  ]);
});

Deno.test("the ssrf_env_variables names, the SDK's names and DENO_SERVE_ADDRESS are granted, no others", () => {
  const grants = grantsOf({
    config: { ssrfEnvVariables: ["MY_TOKEN", "OTHER_TOKEN"] },
  });
  assert.deepEqual(values(grants, "env"), [
    ...SDK_ENVIRONMENT,
    "MY_TOKEN",
    "OTHER_TOKEN",
    "DENO_SERVE_ADDRESS",
  ]);
});

Deno.test("the listening addresses are granted with the port", () => {
  assert.deepEqual(
    net({
      config: {
        region: "us-east-1",
        listenAddresses: ["127.0.0.1", "::1"],
        httpPort: 8080,
      },
    }).slice(0, 2),
    ["127.0.0.1:8080", "[::1]:8080"],
  );
});

Deno.test("a Unix socket grants its unix: entries and reading and writing the socket and its staging name", () => {
  const grants = grantsOf({
    config: { region: "us-east-1", unixSocketPath: "/run/agent/agent.sock" },
  });
  assert.deepEqual(
    values(grants, "net").filter((value) => value.startsWith("unix:")),
    ["unix:/run/agent/agent.sock", "unix:/run/agent/agent.sock.new/socket"],
  );
  for (const kind of ["read", "write"] as const) {
    const paths = values(grants, kind);
    assert.ok(paths.includes("/run/agent/agent.sock"), kind);
    assert.ok(paths.includes("/run/agent/agent.sock.new"), kind);
  }
});

Deno.test("[[file]] paths grant reading and writing their folders, each folder once, not the files or parents", () => {
  const grants = grantsOf({
    config: {
      files: [
        fileAt("/run/secrets/db"),
        fileAt("/run/secrets/api"),
        fileAt("/opt/app/conf/password"),
      ],
    },
  });
  const why =
    "the folders [[file]] entries are written in (a temporary file, then a rename)";
  for (const kind of ["read", "write"] as const) {
    assert.deepEqual(
      grants[kind].filter((grant) => grant.why === why).map(({ value }) =>
        value
      ),
      ["/run/secrets", "/opt/app/conf"],
      kind,
    );
  }
  assert.deepEqual(values(grants, "write"), [
    "/srv/agent/logs",
    "/run/secrets",
    "/opt/app/conf",
  ]);
});

Deno.test("a [[file]] folder that is missing, not a folder, a link, out of reach or the root stops the grants with one line", () => {
  const cases: [string, FolderFound | undefined, string][] = [
    [
      "/run/secrets/db",
      "missing",
      "Cannot grant write access to /run/secrets for the [[file]] path /run/secrets/db: the folder does not exist. Create it (owned by the agent's user), or write the file elsewhere.",
    ],
    [
      "/run/secrets/db",
      "not a folder",
      "Cannot grant write access to /run/secrets for the [[file]] path /run/secrets/db: it is not a folder.",
    ],
    [
      "/run/secrets/db",
      "symbolic link",
      "Cannot grant write access to /run/secrets for the [[file]] path /run/secrets/db: it is a symbolic link, which could be pointed elsewhere. Give the real folder's path.",
    ],
    [
      "/run/secrets/db",
      "unreadable",
      "Cannot grant write access to /run/secrets for the [[file]] path /run/secrets/db: the agent's user cannot look it up (permission denied). Give that user access to it, or write the file elsewhere.",
    ],
    [
      "/db",
      "folder",
      "Cannot grant write access to / for the [[file]] path /db: the agent is never granted the whole file system. Write the file in a folder of its own, such as /run/secrets.",
    ],
  ];
  for (const [path, found, message] of cases) {
    const folder = path.slice(0, path.lastIndexOf("/")) || "/";
    assert.throws(
      () =>
        grantsOf({
          config: { files: [fileAt(path)] },
          fileFolders: found === undefined ? {} : { [folder]: found },
        }),
      (error) => {
        assert.ok(error instanceof SandboxError);
        assert.equal(error.message, message);
        return true;
      },
      `${path} ${found}`,
    );
  }
});

Deno.test("a [[file]] folder holding what the agent only reads or runs is refused: it could rewrite its own configuration, token or credentials", () => {
  const cases: [DeploymentOptions, string, string][] = [
    [
      { configPath: "/srv/agent/config.toml" },
      "/srv/agent/db",
      "/srv/agent/config.toml (the configuration file (--config))",
    ],
    [
      { env: { AWS_TOKEN: "file:///var/run/awssmatoken" } },
      "/var/run/db",
      "/var/run/awssmatoken (the SSRF token file (file:// in the token variable))",
    ],
    // Paths are compared once normalised, however they were written.
    [
      { configPath: "/srv/other/../agent/config.toml" },
      "/srv/agent/db",
      "/srv/other/../agent/config.toml (the configuration file (--config))",
    ],
    [
      { env: { AWS_TOKEN: "file:///var//run/awssmatoken" } },
      "/var/run/db",
      "/var//run/awssmatoken (the SSRF token file (file:// in the token variable))",
    ],
    [{}, "/home/u/.aws/db", "/home/u/.aws/config (the AWS shared config file)"],
    [{}, "/home/u/db", "/home/u/.aws/config (the AWS shared config file)"],
    [
      {
        profile: { credentialProcess: ["creds"] },
        credentialProgram: "/usr/local/bin/creds",
      },
      "/usr/local/bin/db",
      "/usr/local/bin/creds (the credential_process of AWS profile default)",
    ],
  ];
  for (const [options, path, held] of cases) {
    const folder = path.slice(0, path.lastIndexOf("/"));
    assert.throws(
      () => grantsOf({ ...options, config: { files: [fileAt(path)] } }),
      (error) => {
        assert.ok(error instanceof SandboxError);
        assert.equal(
          error.message,
          `Cannot grant write access to ${folder} for the [[file]] path ${path}: the folder holds ${held}, which the agent must not be able to change. Write the file in a folder of its own.`,
        );
        return true;
      },
      path,
    );
  }
  // The log folder is written anyway: a file may go there.
  assert.deepEqual(
    values(
      grantsOf({ config: { files: [fileAt("/srv/agent/logs/db")] } }),
      "write",
    ),
    ["/srv/agent/logs"],
  );
});

Deno.test("a [[file]] folder holding a comma or white space is a SandboxError, never a split grant", () => {
  assert.throws(
    () => grantsOf({ config: { files: [fileAt("/run/my secrets/db")] } }),
    (error) =>
      error instanceof SandboxError &&
      error.message.startsWith('Cannot grant read access to "/run/my secrets"'),
  );
});

Deno.test("log_to_file = false grants no write access and no log folder", () => {
  const grants = grantsOf({ config: { logToFile: false } });
  assert.deepEqual(values(grants, "write"), []);
  assert.ok(!values(grants, "read").includes("/srv/agent/logs"));
});

Deno.test("a path holding a comma or white space is a SandboxError, never a split grant", () => {
  for (
    const configPath of ["/srv/agent/a,b.toml", "/srv/agent/my config.toml"]
  ) {
    assert.throws(
      () => grantsOf({ configPath }),
      (error) =>
        error instanceof SandboxError &&
        error.message.includes(JSON.stringify(configPath)),
    );
  }
});

Deno.test("every grant carries its reason", () => {
  const grants = grantsOf({
    configPath: "/srv/agent/config.toml",
    config: { unixSocketPath: "/run/agent.sock", parameterStore: true },
    profile: { ssoRegion: "us-east-1" },
  });
  for (const kind of ["read", "write", "net", "env", "sys", "run"] as const) {
    for (const grant of grants[kind]) {
      assert.ok(grant.why.length > 0, grant.value);
    }
  }
});

// Properties over many deployments

/** Deployments that together reach every branch above that grants something. */
const MANY_DEPLOYMENTS: DeploymentOptions[] = [
  {},
  { configPath: "/srv/agent/config.toml", config: { region: "eu-west-1" } },
  {
    config: {
      parameterStore: true,
      useFipsEndpoint: true,
      region: "us-gov-west-1",
    },
  },
  { config: { listenAddresses: ["127.0.0.1", "::1"], httpPort: 1 } },
  {
    config: { unixSocketPath: "/run/awssmaagent/agent.sock", logToFile: false },
  },
  { config: { credentialsFilePath: "creds/agent.ini" } },
  {
    env: { AWS_TOKEN: "file:///var/run/awssmatoken", AWS_REGION: "cn-north-1" },
  },
  {
    env: {
      AWS_ENDPOINT_URL: "http://localhost",
      AWS_USE_DUALSTACK_ENDPOINT: "true",
    },
  },
  { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" } },
  { env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: "https://creds.internal/x" } },
  { env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/x" } },
  {
    env: {
      AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token",
      AWS_USE_FIPS_ENDPOINT: "true",
    },
  },
  { profile: { ssoRegion: "ap-southeast-2", region: "ap-southeast-2" } },
  {
    profile: { credentialProcess: ["creds"] },
    credentialProgram: "/usr/local/bin/creds",
  },
  { profile: { endpointUrls: ["https://vpce.example:8443"] } },
  { profile: { assumesRole: true, credentialSource: "EcsContainer" } },
  { home: undefined },
  { config: { files: [fileAt("/run/secrets/db"), fileAt("/opt/app/x/y")] } },
];

const ROOT_LIKE = new Set([
  "/",
  HOME,
  WORKING_DIRECTORY,
  "/home",
  "/srv",
  "/etc",
  "/run",
  "/var",
  "/tmp",
]);
const NET_ENTRY = /^(\[[0-9a-f:]+\]|[a-z0-9.-]+):\d{1,5}$/;

Deno.test("no deployment is granted a wildcard, a root-like folder, a portless host, an unexpected write or another kind", () => {
  for (const options of MANY_DEPLOYMENTS) {
    const where = JSON.stringify(options);
    const grants = grantsOf(options);
    assert.deepEqual(
      Object.keys(grants).sort(),
      ["env", "net", "notes", "read", "run", "sys", "write"],
      where,
    );
    for (const kind of ["read", "write", "net", "env", "sys", "run"] as const) {
      for (const { value } of grants[kind]) {
        assert.ok(!value.includes("*"), `${kind} ${value} in ${where}`);
        assert.ok(value !== "", `${kind} empty in ${where}`);
      }
    }
    for (const kind of ["read", "write", "run"] as const) {
      for (const { value } of grants[kind]) {
        assert.ok(
          value.startsWith("/"),
          `${kind} ${value} is not absolute in ${where}`,
        );
        assert.ok(
          !ROOT_LIKE.has(value) && !value.endsWith("/"),
          `${kind} ${value} in ${where}`,
        );
        assert.ok(
          value.split("/").length > 2,
          `${kind} ${value} is a top folder in ${where}`,
        );
      }
    }
    for (const { value } of grants.net) {
      if (value.startsWith("unix:/")) continue;
      assert.match(value, NET_ENTRY, where);
    }
    const socket = options.config?.unixSocketPath;
    const writable = [
      ...(options.config?.logToFile === false
        ? []
        : [`${WORKING_DIRECTORY}/logs`]),
      ...(socket === undefined ? [] : [socket, `${socket}.new`]),
      ...(options.config?.files ?? []).map(({ path }) =>
        path.slice(0, path.lastIndexOf("/"))
      ),
    ];
    assert.deepEqual(values(grants, "write"), writable, where);
    for (const { value } of grants.sys) {
      assert.ok(
        ["osRelease", "umask"].includes(value),
        `sys ${value} in ${where}`,
      );
    }
  }
});
