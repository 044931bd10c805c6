/**
 * Least privilege computed from the deployment: the exact files, hosts,
 * variables and programs one agent needs, each with the reason it is
 * granted. Pure: `read_deployment.ts` gathers the facts, `flags.ts` prints
 * the result as Deno flags.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ownCredentialProcess } from "../aws/profile.ts";
import { AWS_REGIONS, awsHost, type AwsService } from "./aws_hosts.ts";
import type { Deployment, FolderFound } from "./deployment.ts";
import { folderOf } from "../files/atomic_file.ts";
import { SDK_ENVIRONMENT } from "./sdk_environment.ts";

/** One entry of a permission list, and why this deployment needs it. */
export interface Grant {
  readonly value: string;
  readonly why: string;
}

/** The permission kinds the agent may be granted; anything else never is. */
export type GrantKind = "read" | "write" | "net" | "env" | "sys" | "run";

/** Every grant of one deployment, by kind, plus notes for the operator. */
export interface Grants {
  readonly read: readonly Grant[];
  readonly write: readonly Grant[];
  readonly net: readonly Grant[];
  readonly env: readonly Grant[];
  readonly sys: readonly Grant[];
  readonly run: readonly Grant[];
  /** Choices made for the operator to know, such as a region learned at run time. */
  readonly notes: readonly string[];
}

/** A deployment whose needs cannot be granted; `message` is the line to print. */
export class SandboxError extends Error {
  /** `message` is the exact user-facing line. */
  constructor(message: string) {
    super(message);
    this.name = "SandboxError";
  }
}

/** The agent's log folder, relative to its working folder. */
const LOG_FOLDER = "logs";
const FILE_PREFIX = "file://";
const IMDS_IPV4 = "169.254.169.254:80";
const IMDS_IPV6 = "[fd00:ec2::254]:80";
const ECS_CREDENTIALS_HOST = "169.254.170.2:80";

/** Collects grants in order, one entry per value, the first reason kept. */
class GrantList {
  readonly #entries = new Map<string, string>();

  add(value: string, why: string): void {
    if (!this.#entries.has(value)) this.#entries.set(value, why);
  }

  grants(): Grant[] {
    return [...this.#entries].map(([value, why]) => ({ value, why }));
  }
}

/**
 * The grants of a deployment. Throws {@linkcode SandboxError} when a need
 * cannot be expressed as a Deno grant (a path holding a comma, say).
 *
 * @example
 * ```ts
 * const grants = computeGrants(deployment);
 * grants.net.map((grant) => grant.value); // ["127.0.0.1:2773", "secretsmanager.us-east-1.amazonaws.com:443", ...]
 * ```
 */
export function computeGrants(deployment: Deployment): Grants {
  const read = new GrantList();
  const write = new GrantList();
  const net = new GrantList();
  const env = new GrantList();
  const sys = new GrantList();
  const run = new GrantList();
  const notes: string[] = [];
  const { config, profile } = deployment;
  const variables = deployment.env;

  if (deployment.configPath !== undefined) {
    read.add(deployment.configPath, "the configuration file (--config)");
  }
  const tokenFile = tokenFilePath(config.ssrfEnvVariables, variables);
  if (tokenFile !== undefined) {
    read.add(tokenFile, "the SSRF token file (file:// in the token variable)");
  }
  if (config.logToFile) {
    const folder = `${deployment.workingDirectory}/${LOG_FOLDER}`;
    read.add(folder, "the log folder (log_to_file)");
    write.add(folder, "the log folder (log_to_file)");
  }

  // Files the SDK's credential chain and settings read.
  if (deployment.awsConfigFile !== undefined) {
    read.add(deployment.awsConfigFile, "the AWS shared config file");
  }
  if (deployment.awsCredentialsFile !== undefined) {
    read.add(deployment.awsCredentialsFile, "the AWS shared credentials file");
  }
  if (config.credentialsFilePath !== undefined) {
    read.add(
      absolute(config.credentialsFilePath, deployment.workingDirectory),
      "the credentials file (credentials_file_path)",
    );
  }
  const webIdentityFile = variables.AWS_WEB_IDENTITY_TOKEN_FILE ??
    profile.webIdentityTokenFile;
  if (webIdentityFile !== undefined) {
    read.add(
      absolute(webIdentityFile, deployment.workingDirectory),
      "the web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE or web_identity_token_file)",
    );
  }
  const containerTokenFile = variables.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  if (containerTokenFile !== undefined) {
    read.add(
      absolute(containerTokenFile, deployment.workingDirectory),
      "the container credentials token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)",
    );
  }
  if (profile.ssoRegion !== undefined && deployment.home !== undefined) {
    read.add(
      `${deployment.home}/.aws/sso/cache`,
      `the SSO token cache of profile ${profile.name}`,
    );
  }
  const ownProcess = config.credentialsFilePath === undefined
    ? ownCredentialProcess(profile, variables)
    : undefined;
  if (
    usesSdkChain(deployment) && profile.credentialProcess !== undefined &&
    profile.assumesRole
  ) {
    throw new SandboxError(
      `The credential_process of AWS profile ${profile.name} is reached through its role_arn, so the AWS SDK runs it through /bin/sh, which cannot be granted as one program: give the role's profile its own credential_process, or use another credential source`,
    );
  }
  if (ownProcess !== undefined) {
    if (deployment.credentialProgram === undefined) {
      throw new SandboxError(
        `The credential_process program ${
          ownProcess[0]
        } of AWS profile ${profile.name} was not found: give its absolute path in the profile, or put it on PATH`,
      );
    }
    run.add(
      deployment.credentialProgram,
      `the credential_process of AWS profile ${profile.name}`,
    );
  }

  for (const name of SDK_ENVIRONMENT) {
    env.add(
      name,
      "read by the AWS SDK (credentials, region, endpoints) and HOME for ~/.aws",
    );
  }
  for (const name of config.ssrfEnvVariables) {
    env.add(name, "an SSRF token variable (ssrf_env_variables)");
  }
  env.add(
    "DENO_SERVE_ADDRESS",
    "checked at start-up: the agent refuses to start while it is set",
  );

  sys.add("osRelease", "the AWS SDK's user agent names the OS release");
  for (const address of config.listenAddresses) {
    net.add(
      address === "::1"
        ? `[::1]:${config.httpPort}`
        : `${address}:${config.httpPort}`,
      "the listening address (listen_addresses, http_port)",
    );
  }
  if (config.unixSocketPath !== undefined) {
    const path = config.unixSocketPath;
    const why = "the Unix socket (unix_socket_path)";
    const staging =
      "the folder the Unix socket is bound in before it is moved into place";
    net.add(`unix:${path}`, why);
    net.add(`unix:${path}.new/socket`, staging);
    for (const [each, reason] of [[path, why], [`${path}.new`, staging]]) {
      read.add(each, reason);
      write.add(each, reason);
    }
  }

  addAwsHosts(deployment, net, notes);
  addMetadataHosts(deployment, net);
  addFileFolders(deployment, { read, write, run });

  const grants: Grants = {
    read: read.grants(),
    write: write.grants(),
    net: net.grants(),
    env: env.grants(),
    sys: sys.grants(),
    run: run.grants(),
    notes,
  };
  checkExpressible(grants);
  return grants;
}

const FILE_FOLDER_WHY =
  "the folders [[file]] entries are written in (a temporary file, then a rename)";

/** Why a `[[file]]` folder found so cannot be granted; undefined for a folder. */
const FOLDER_REFUSALS: Record<FolderFound, string | undefined> = {
  "folder": undefined,
  "missing":
    "the folder does not exist. Create it (owned by the agent's user), or write the file elsewhere.",
  "not a folder": "it is not a folder.",
  "symbolic link":
    "it is a symbolic link, which could be pointed elsewhere. Give the real folder's path.",
  "unreadable":
    "the agent's user cannot look it up (permission denied). Give that user access to it, or write the file elsewhere.",
};

/**
 * Read and write of each `[[file]]` path's folder (not its parents): the
 * temporary file is created there and renamed over the path, and `lstat`
 * needs read. Refused: the root, a folder that is not a real one, and a
 * folder holding what the agent only reads or runs (the configuration file,
 * the token, AWS files, a credential program), which it could then change.
 */
function addFileFolders(
  deployment: Deployment,
  lists: { read: GrantList; write: GrantList; run: GrantList },
): void {
  const written = new Set(lists.write.grants().map(({ value }) => value));
  const readOnly = [...lists.read.grants(), ...lists.run.grants()].filter((
    { value },
  ) => !written.has(value));
  for (const { path } of deployment.config.files) {
    const folder = folderOf(path);
    const refuse = (reason: string) =>
      new SandboxError(
        `Cannot grant write access to ${folder} for the [[file]] path ${path}: ${reason}`,
      );
    if (folder === "/") {
      throw refuse(
        "the agent is never granted the whole file system. Write the file in a folder of its own, such as /run/secrets.",
      );
    }
    const refusal = FOLDER_REFUSALS[
      deployment.fileFolders.get(folder) ?? "missing"
    ];
    if (refusal !== undefined) throw refuse(refusal);
    // Compared as normal absolute paths: `../x/config.toml` or `/a//x` is
    // still a file of the folder.
    const normalFolder = resolve(folder);
    const held = readOnly.find(({ value }) => {
      const normal = resolve(deployment.workingDirectory, value);
      return normal === normalFolder || normal.startsWith(`${normalFolder}/`);
    });
    if (held !== undefined) {
      throw refuse(
        `the folder holds ${held.value} (${held.why}), which the agent must not be able to change. Write the file in a folder of its own.`,
      );
    }
    lists.read.add(folder, FILE_FOLDER_WHY);
    lists.write.add(folder, FILE_FOLDER_WHY);
  }
}

const SERVICE_NAMES: Record<AwsService, string> = {
  secretsmanager: "Secrets Manager",
  sts: "STS",
  ssm: "Systems Manager (parameter_store)",
  sso: "IAM Identity Center",
  oidc: "IAM Identity Center",
};

/** The services the agent calls, with the `AWS_ENDPOINT_URL_*` suffix of each. */
function servicesCalled(deployment: Deployment): [AwsService, string][] {
  const services: [AwsService, string][] = [
    ["secretsmanager", "SECRETS_MANAGER"],
    ["sts", "STS"],
  ];
  if (deployment.config.parameterStore) services.push(["ssm", "SSM"]);
  return services;
}

function addAwsHosts(
  deployment: Deployment,
  net: GrantList,
  notes: string[],
): void {
  const { config, profile } = deployment;
  const variables = deployment.env;
  const useDualStack = sdkSetting(
    variables.AWS_USE_DUALSTACK_ENDPOINT,
    profile.useDualStackEndpoint,
  );
  // The agent sets use_fips_endpoint on its own clients, which overrides the
  // SDK's settings; the clients the credential chain builds (STS for web
  // identity and roles, IAM Identity Center) read the SDK's settings.
  const variant = { useFips: config.useFipsEndpoint, useDualStack };
  const chainVariant = {
    useFips: sdkSetting(
      variables.AWS_USE_FIPS_ENDPOINT,
      profile.useFipsEndpoint,
    ),
    useDualStack,
  };
  const ignoreConfigured = isTrue(
    variables.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
  );
  const region = knownRegion(deployment);
  if (region === undefined) {
    notes.push(
      "The region is learned at run time (instance metadata): the hosts of every region of the aws partition are granted. Set region in the configuration file or AWS_REGION to grant one region's hosts.",
    );
  }
  const regions = region === undefined ? AWS_REGIONS : [region];
  for (const [service, suffix] of servicesCalled(deployment)) {
    const configured = ignoreConfigured ? undefined : nonEmpty(
      variables[`AWS_ENDPOINT_URL_${suffix}`],
    ) ?? nonEmpty(variables.AWS_ENDPOINT_URL);
    if (configured !== undefined) {
      net.add(
        hostOf(configured, `AWS_ENDPOINT_URL_${suffix}`),
        `the endpoint URL of ${
          SERVICE_NAMES[service]
        } (AWS_ENDPOINT_URL_${suffix} or AWS_ENDPOINT_URL)`,
      );
      continue;
    }
    const where = region ?? "every region of the aws partition";
    for (const each of regions) {
      net.add(
        awsHost(service, each, variant),
        `${SERVICE_NAMES[service]} in ${where}`,
      );
      if (service === "sts" && chainCallsSts(deployment)) {
        net.add(
          awsHost(service, each, chainVariant),
          `STS of the credential chain (web identity or role_arn) in ${where}`,
        );
      }
    }
  }
  if (!ignoreConfigured) {
    for (const url of profile.endpointUrls) {
      net.add(
        hostOf(url, `endpoint_url of AWS profile ${profile.name}`),
        `an endpoint_url of AWS profile ${profile.name}`,
      );
    }
  }
  if (profile.ssoRegion !== undefined) {
    for (const service of ["sso", "oidc"] as const) {
      net.add(
        awsHost(service, profile.ssoRegion, chainVariant),
        `IAM Identity Center (SSO) of AWS profile ${profile.name}`,
      );
    }
  }
}

function addMetadataHosts(deployment: Deployment, net: GrantList): void {
  const { config, profile } = deployment;
  const variables = deployment.env;
  const containerUrl = variables.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  const relativeUri = variables.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  if (relativeUri !== undefined) {
    net.add(
      ECS_CREDENTIALS_HOST,
      "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)",
    );
  } else if (containerUrl !== undefined) {
    net.add(
      hostOf(containerUrl, "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
      "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)",
    );
  }
  const container = relativeUri !== undefined || containerUrl !== undefined;
  if (profile.credentialSource === "EcsContainer" && !container) {
    net.add(
      ECS_CREDENTIALS_HOST,
      `credential_source of AWS profile ${profile.name}`,
    );
  }
  if (isTrue(variables.AWS_EC2_METADATA_DISABLED)) return;
  // The chain stops at the first source that yields credentials; instance
  // metadata is its last, reached only when nothing before it applies.
  const earlierSource = config.credentialsFilePath !== undefined ||
    hasEnvironmentKeys(variables) ||
    profile.hasStaticKeys || profile.credentialProcess !== undefined ||
    profile.ssoRegion !== undefined ||
    variables.AWS_WEB_IDENTITY_TOKEN_FILE !== undefined ||
    profile.webIdentityTokenFile !== undefined || container;
  const forCredentials = !earlierSource ||
    profile.credentialSource === "Ec2InstanceMetadata";
  const forRegion = knownRegion(deployment) === undefined;
  if (!forCredentials && !forRegion) return;
  const why = forCredentials
    ? "EC2 instance metadata (IMDSv2): credentials and region"
    : "EC2 instance metadata (IMDSv2): the region";
  const endpoint = variables.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  if (endpoint !== undefined) {
    net.add(hostOf(endpoint, "AWS_EC2_METADATA_SERVICE_ENDPOINT"), why);
  } else if (variables.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE === "IPv6") {
    net.add(IMDS_IPV6, why);
  } else {
    net.add(IMDS_IPV4, why);
  }
}

/** Whether the agent takes credentials from the SDK's chain, not its own provider. */
function usesSdkChain(deployment: Deployment): boolean {
  return deployment.config.credentialsFilePath === undefined &&
    ownCredentialProcess(deployment.profile, deployment.env) === undefined;
}

/** Whether the SDK's credential chain calls STS itself (web identity, a profile's role). */
function chainCallsSts(deployment: Deployment): boolean {
  const { profile } = deployment;
  return usesSdkChain(deployment) &&
    (deployment.env.AWS_WEB_IDENTITY_TOKEN_FILE !== undefined ||
      profile.webIdentityTokenFile !== undefined || profile.assumesRole);
}

/** Keys in the environment, which the SDK takes only when AWS_PROFILE is unset. */
function hasEnvironmentKeys(
  variables: Readonly<Record<string, string>>,
): boolean {
  return !variables.AWS_PROFILE && Boolean(variables.AWS_ACCESS_KEY_ID) &&
    Boolean(variables.AWS_SECRET_ACCESS_KEY);
}

/** A boolean SDK setting: the variable when set, else the profile's. */
function sdkSetting(
  variable: string | undefined,
  fromProfile: boolean,
): boolean {
  return variable === undefined || variable === ""
    ? fromProfile
    : variable.toLowerCase() === "true";
}

/** The region known before start: the config file, `AWS_REGION`, the profile. */
function knownRegion(deployment: Deployment): string | undefined {
  return deployment.config.region ?? nonEmpty(deployment.env.AWS_REGION) ??
    deployment.profile.region;
}

/** The token file the agent will read: the first token variable set holds `file://`. */
function tokenFilePath(
  names: readonly string[],
  variables: Readonly<Record<string, string>>,
): string | undefined {
  for (const name of names) {
    const value = variables[name];
    if (value === undefined) continue;
    if (!value.startsWith(FILE_PREFIX)) return undefined;
    try {
      return fileURLToPath(value);
    } catch {
      // The agent says what is wrong with the URL when it starts.
      return undefined;
    }
  }
  return undefined;
}

/** `host:port` of a URL, as `--allow-net` takes it. */
function hostOf(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SandboxError(`${source} is not a URL: ${url}`);
  }
  const port = parsed.port ||
    (parsed.protocol === "https:"
      ? "443"
      : parsed.protocol === "http:"
      ? "80"
      : "");
  if (port === "") {
    throw new SandboxError(`${source} is not an http or https URL: ${url}`);
  }
  return `${parsed.hostname}:${port}`;
}

function absolute(path: string, workingDirectory: string): string {
  return path.startsWith("/") ? path : `${workingDirectory}/${path}`;
}

function isTrue(value: string | undefined): boolean {
  return value?.toLowerCase() === "true";
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

// Deno splits a permission list at commas, and the task's shell splits words
// at white space: an entry holding either would grant something else.
const UNGRANTABLE = /[,\s]/;

function checkExpressible(grants: Grants): void {
  for (const kind of ["read", "write", "net", "env", "run"] as const) {
    for (const grant of grants[kind]) {
      if (UNGRANTABLE.test(grant.value)) {
        throw new SandboxError(
          `Cannot grant ${kind} access to ${
            JSON.stringify(grant.value)
          } (${grant.why}): a Deno permission entry cannot hold a comma or white space. Use a path or name without them.`,
        );
      }
    }
  }
}
