/**
 * What a deployment is, as far as its grants go: the parsed configuration,
 * the environment, and the facts of the AWS profile in use, each path
 * already absolute. Built by `read_deployment.ts` (the I/O edge) and turned
 * into grants by `grants.ts` (pure).
 *
 * @module
 */

import type { Config } from "../config/config.ts";

/** The settings of the AWS profile in use (and the profiles it sources). */
export interface ProfileFacts {
  /** `AWS_PROFILE`, else `default`. */
  readonly name: string;
  readonly region: string | undefined;
  /** The profile (or one it sources) holds `aws_access_key_id`. */
  readonly hasStaticKeys: boolean;
  /** The profile assumes a role (`role_arn`) with credentials from another source. */
  readonly assumesRole: boolean;
  /** `credential_process`, split into the program and its arguments. */
  readonly credentialProcess: readonly string[] | undefined;
  /** The region of IAM Identity Center when the profile signs in with SSO. */
  readonly ssoRegion: string | undefined;
  readonly webIdentityTokenFile: string | undefined;
  /** `credential_source`: `Ec2InstanceMetadata`, `EcsContainer` or `Environment`. */
  readonly credentialSource: string | undefined;
  /** `endpoint_url` settings, the profile's own and its `services` section's. */
  readonly endpointUrls: readonly string[];
  readonly useFipsEndpoint: boolean;
  readonly useDualStackEndpoint: boolean;
}

/** What is at the folder a `[[file]]` is written in, as the grants step found it. */
export type FolderFound =
  | "folder"
  | "missing"
  | "not a folder"
  | "symbolic link"
  | "unreadable";

/** Everything the grants are computed from. */
export interface Deployment {
  readonly config: Config;
  /** The configuration file, absolute; undefined when the defaults apply. */
  readonly configPath: string | undefined;
  /** The folder the agent runs in: `./logs` is relative to it. */
  readonly workingDirectory: string;
  /** The agent's environment (only the names that matter are read). */
  readonly env: Readonly<Record<string, string>>;
  /** `$HOME`; undefined when unset. */
  readonly home: string | undefined;
  /** The shared config and credentials files the SDK reads, absolute. */
  readonly awsConfigFile: string | undefined;
  readonly awsCredentialsFile: string | undefined;
  readonly profile: ProfileFacts;
  /** The `credential_process` program as found on `PATH`, absolute. */
  readonly credentialProgram: string | undefined;
  /** The folder of each `[[file]]` path, and what is there. */
  readonly fileFolders: ReadonlyMap<string, FolderFound>;
}
