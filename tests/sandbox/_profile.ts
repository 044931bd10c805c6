/**
 * The facts of a profile that sets nothing, for the sandbox tests to build on.
 *
 * @module
 */

import type { ProfileFacts } from "../../src/sandbox/deployment.ts";

/** A profile with no settings at all, as an absent `default` reads. */
export const NO_PROFILE: ProfileFacts = {
  name: "default",
  region: undefined,
  hasStaticKeys: false,
  assumesRole: false,
  credentialProcess: undefined,
  ssoRegion: undefined,
  webIdentityTokenFile: undefined,
  credentialSource: undefined,
  endpointUrls: [],
  useFipsEndpoint: false,
  useDualStackEndpoint: false,
};
