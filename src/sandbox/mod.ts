/**
 * The sandbox computed from the deployment: `printPermissions` is what
 * `--print-permissions` runs, before the agent's own process starts (Deno
 * fixes permissions at start; nothing can add one later).
 *
 * @module
 */

import { dependenciesCached } from "./dependency_cache.ts";
import { formatPermissions } from "./flags.ts";
import { computeGrants } from "./grants.ts";
import {
  readDeployment,
  type ReadDeploymentOptions,
} from "./read_deployment.ts";

export {
  computeGrants,
  type Grant,
  type Grants,
  SandboxError,
} from "./grants.ts";
export type { Deployment, ProfileFacts } from "./deployment.ts";
export {
  readDeployment,
  type ReadDeploymentOptions,
} from "./read_deployment.ts";
export { formatPermissions } from "./flags.ts";

const LOCK_FILE = new URL("../../deno.lock", import.meta.url);

/** The flags text when the agent only prints its usage, version or an argument error. */
export function noGrantsText(): string {
  return formatPermissions(
    { read: [], write: [], net: [], env: [], sys: [], run: [], notes: [] },
    { cachedOnly: false },
  );
}

/** The flags text for the deployment of `configPath`, in this process's environment unless `options` name another. */
export async function permissionsText(
  configPath: string | undefined,
  options: ReadDeploymentOptions = {},
): Promise<string> {
  const deployment = await readDeployment(configPath, options);
  return formatPermissions(computeGrants(deployment), {
    cachedOnly: dependenciesCached(LOCK_FILE, deployment.env),
  });
}
