/**
 * Launch settings that give an agent its SSRF token through a file
 * (`AWS_TOKEN=file://<absolute path>`).
 *
 * The agent's sandbox only reads a few folders, `./.aws` of its own working
 * folder among them, and a `file://` URL must be absolute, but the working
 * folder only exists once `startAgent` has made it. So the environment is a
 * function of that folder.
 *
 * @module
 */

import type { AgentLaunch } from "./agent_process.ts";

/** The parts of an {@link AgentLaunch} that put the token in a file. */
export type TokenFileLaunch = Required<Pick<AgentLaunch, "env" | "files">>;

/** Options of {@link tokenFileLaunch}. */
export interface TokenFileLaunchOptions {
  /** The variable that names the file; default `AWS_TOKEN`. */
  readonly variable?: string;
  /** Written around the token in the file, to prove it is trimmed; default `"  "` and `"\n"`. */
  readonly padding?: readonly [string, string];
}

/**
 * `env` and `files` for `startAgent`: the token in `./.aws/ssrf-token`
 * of the agent's folder, and `variable` set to that file's `file://` URL.
 */
export function tokenFileLaunch(
  token: string,
  options: TokenFileLaunchOptions = {},
): TokenFileLaunch {
  const variable = options.variable ?? "AWS_TOKEN";
  const [before, after] = options.padding ?? ["  ", "\n"];
  const relativePath = ".aws/ssrf-token";
  return {
    env: (dir) => ({ [variable]: `file://${dir}/${relativePath}` }),
    files: { [relativePath]: `${before}${token}${after}` },
  };
}
