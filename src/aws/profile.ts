/**
 * The AWS profile in use, read from the shared config and credentials files
 * with the SDK's own file loader: the settings that decide which files,
 * hosts and program the agent needs (for the sandbox), and whether the
 * profile's credentials come from a `credential_process`.
 *
 * @module
 */

import type { ProfileFacts } from "../sandbox/deployment.ts";
import { splitCommandLine } from "./credential_process.ts";
import { grantHint } from "../failure_text.ts";

/** The shared files the SDK reads, absolute; undefined when `HOME` is unknown. */
export interface AwsFilePaths {
  readonly configFile: string | undefined;
  readonly credentialsFile: string | undefined;
}

type Variables = Readonly<Record<string, string | undefined>>;

/** `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`. */
export function awsFilePaths(
  env: Variables,
  workingDirectory: string,
): AwsFilePaths {
  const home = env.HOME || undefined;
  const locate = (variable: string | undefined, fallback: string) => {
    const path = variable || (home === undefined ? undefined : `~/${fallback}`);
    if (path === undefined) return undefined;
    if (path.startsWith("~/")) {
      return home === undefined ? undefined : `${home}/${path.slice(2)}`;
    }
    return path.startsWith("/") ? path : `${workingDirectory}/${path}`;
  };
  return {
    configFile: locate(env.AWS_CONFIG_FILE, ".aws/config"),
    credentialsFile: locate(
      env.AWS_SHARED_CREDENTIALS_FILE,
      ".aws/credentials",
    ),
  };
}

type Section = Record<string, string | undefined>;
type ParsedFiles = Record<string, Section>;

/**
 * The parsed shared files, by the SDK's own loader. It takes ~100 ms to
 * load, so a deployment without either file (most servers) skips it.
 */
async function sharedFiles(
  files: AwsFilePaths,
): Promise<{ configFile: ParsedFiles; credentialsFile: ParsedFiles }> {
  const present = [files.configFile, files.credentialsFile].some((path) =>
    path !== undefined && exists(path)
  );
  if (!present) return { configFile: {}, credentialsFile: {} };
  const { loadSharedConfigFiles } = await import("@smithy/core/config");
  return await loadSharedConfigFiles({
    ...(files.configFile ? { configFilepath: files.configFile } : {}),
    ...(files.credentialsFile ? { filepath: files.credentialsFile } : {}),
  });
}

/** Whether something is at `path`; one the sandbox hides counts as there, for the SDK to say so. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}

// A role's source profile may itself source another: follow a few, never a loop.
const MAX_SOURCE_PROFILES = 5;

/**
 * The facts of the profile named by `AWS_PROFILE` (else `default`), merged
 * with those of the profiles it takes credentials from (`source_profile`).
 * Missing or unreadable files count as empty, as the SDK treats them.
 */
export async function readProfile(
  env: Variables,
  files: AwsFilePaths,
): Promise<ProfileFacts> {
  const name = env.AWS_PROFILE || "default";
  const { configFile, credentialsFile } = await sharedFiles(files);
  const sectionOf = (profile: string): Section => ({
    ...configFile[profile],
    ...credentialsFile[profile],
  });
  const active = sectionOf(name);
  const chain: Section[] = [active];
  const seen = new Set([name]);
  for (let current = active; chain.length < MAX_SOURCE_PROFILES;) {
    const source = current.role_arn ? current.source_profile : undefined;
    if (source === undefined || seen.has(source)) break;
    seen.add(source);
    current = sectionOf(source);
    chain.push(current);
  }
  const first = (key: string) =>
    chain.map((section) => section[key]).find((value) => value);
  const ssoSession = first("sso_session");
  const ssoRegion = first("sso_region") ??
    (ssoSession === undefined
      ? undefined
      : configFile[`sso-session.${ssoSession}`]?.sso_region);
  const usesSso = ssoSession !== undefined ||
    first("sso_start_url") !== undefined;
  const processLine = first("credential_process");
  const servicesName = active.services;
  const services: Section = servicesName === undefined
    ? {}
    : configFile[`services.${servicesName}`] ?? {};
  return {
    name,
    region: active.region || undefined,
    assumesRole: Boolean(active.role_arn),
    hasStaticKeys: chain.some((section) => Boolean(section.aws_access_key_id)),
    credentialProcess: processLine === undefined
      ? undefined
      : splitCommandLine(processLine),
    ssoRegion: usesSso ? ssoRegion : undefined,
    webIdentityTokenFile: first("web_identity_token_file"),
    credentialSource: first("credential_source"),
    endpointUrls: [
      active.endpoint_url,
      ...Object.entries(services)
        .filter(([key]) => key.endsWith(".endpoint_url"))
        .map(([, value]) => value),
    ].filter((url): url is string => Boolean(url)),
    useFipsEndpoint: active.use_fips_endpoint?.toLowerCase() === "true",
    useDualStackEndpoint:
      active.use_dualstack_endpoint?.toLowerCase() === "true",
  };
}

/**
 * The `credential_process` the agent runs itself: only when the SDK's chain
 * would reach it first (no keys in the environment it takes, and the profile
 * neither holds keys nor assumes a role; the SDK tries a profile's SSO
 * settings only after its `credential_process`).
 */
export function ownCredentialProcess(
  profile: ProfileFacts,
  env: Variables,
): readonly string[] | undefined {
  // The SDK skips the environment's keys when AWS_PROFILE is set.
  if (!env.AWS_PROFILE && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return undefined;
  }
  if (profile.hasStaticKeys || profile.assumesRole) return undefined;
  return profile.credentialProcess;
}

/**
 * The first file the SDK's credential chain would read that the sandbox does
 * not grant, as the line to show; undefined when every one is granted. The
 * SDK swallows such a refusal and reports no credentials at all.
 */
export function credentialFileRefused(
  env: Variables,
  files: AwsFilePaths,
): string | undefined {
  const paths = [
    files.credentialsFile,
    files.configFile,
    env.AWS_WEB_IDENTITY_TOKEN_FILE,
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
  ];
  for (const path of paths) {
    if (!path) continue;
    if (
      Deno.permissions.querySync({ name: "read", path }).state !== "granted"
    ) {
      return `Permission denied by the sandbox: the AWS credential chain cannot read ${path} (${
        grantHint(`--allow-read=${path}`)
      })`;
    }
  }
  return undefined;
}
