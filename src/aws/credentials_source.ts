/**
 * Which credentials the agent gives the SDK: `credentials_file_path`, or a
 * profile's `credential_process` (run without a shell, see
 * `credential_process.ts`); otherwise none, and the SDK's chain decides.
 *
 * @module
 */

import type { Credentials } from "./credentials.ts";
import { createCredentialProcessProvider } from "./credential_process.ts";
import { createCredentialsFileProvider } from "./credentials_file.ts";
import {
  awsFilePaths,
  credentialFileRefused,
  ownCredentialProcess,
  readProfile,
} from "./profile.ts";
import type { Logger } from "../log/logger.ts";

/** The agent's own credentials provider, or undefined to leave it to the SDK's chain. */
export async function agentCredentials(
  file: { readonly path?: string; readonly temporaryOnly: boolean },
  log: Logger,
): Promise<(() => Promise<Credentials>) | undefined> {
  const env = awsEnv();
  if (file.path !== undefined) {
    return createCredentialsFileProvider(file.path, {
      profile: env.AWS_PROFILE,
      temporaryOnly: file.temporaryOnly,
      log,
    });
  }
  const profile = await readProfile(env, awsFilePaths(env, Deno.cwd()));
  const command = ownCredentialProcess(profile, env);
  return command === undefined
    ? undefined
    : createCredentialProcessProvider(command, { profile: profile.name });
}

/** Why the SDK's chain found no credentials when the sandbox is the cause (see `profile.ts`). */
export function explainMissingCredentials(): string | undefined {
  const env = awsEnv();
  return credentialFileRefused(env, awsFilePaths(env, Deno.cwd()));
}

/** The variables that locate the AWS profile and its files. */
function awsEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    [
      "AWS_PROFILE",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_CONFIG_FILE",
      "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
      "HOME",
    ].map((name) => [name, Deno.env.get(name)]),
  );
}
