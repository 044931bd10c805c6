/**
 * Launch settings that give an agent its SSRF token through a file
 * (`AWS_TOKEN=file://<absolute path>`).
 *
 * The agent's sandbox only reads a few folders, `./.aws` of its own working
 * folder among them, and a `file://` URL must be absolute, but the working
 * folder only exists once `startAgent` has made it. So the variable's
 * value is a getter: `startAgent` writes the launch's files first, then reads
 * the environment, and the getter finds the folder holding this launch's
 * uniquely named token file.
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
 * `env` and `files` for `startAgent`: the token in `./.aws/<unique>`
 * of the agent's folder, and `variable` set to that file's `file://` URL.
 */
export function tokenFileLaunch(
  token: string,
  options: TokenFileLaunchOptions = {},
): TokenFileLaunch {
  const variable = options.variable ?? "AWS_TOKEN";
  const [before, after] = options.padding ?? ["  ", "\n"];
  const relativePath = `.aws/ssrf-token-${crypto.randomUUID()}`;
  const env: Record<string, string> = {};
  Object.defineProperty(env, variable, {
    enumerable: true,
    get: () => `file://${agentDirHolding(relativePath)}/${relativePath}`,
  });
  return { env, files: { [relativePath]: `${before}${token}${after}` } };
}

/** The one `agent-*` folder in the temp folder that holds `relativePath`. */
function agentDirHolding(relativePath: string): string {
  const probe = Deno.makeTempDirSync({ prefix: "agent-probe-" });
  Deno.removeSync(probe);
  const base = probe.slice(0, probe.lastIndexOf("/"));
  const found: string[] = [];
  for (const entry of Deno.readDirSync(base)) {
    if (!entry.isDirectory || !entry.name.startsWith("agent-")) continue;
    const dir = `${base}/${entry.name}`;
    if (exists(`${dir}/${relativePath}`)) found.push(dir);
  }
  if (found.length !== 1) {
    throw new Error(
      `Expected one agent folder holding ${relativePath}, found ${found.length}: startAgent must write files before it reads env`,
    );
  }
  return found[0];
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
