/**
 * Runs the real agent to its exit in a working folder whose path the test
 * knows before the launch, so the environment can name files inside it (a
 * `file://` SSRF token in the folder, say). `agent_process.ts` picks its
 * folder itself; this is the same launch (its `agentCommand`, a clean
 * environment with the test credentials) for the cases that need the
 * folder's path.
 *
 * @module
 */

import {
  agentCommand,
  agentEnvironment,
  type AgentExit,
  freePort,
} from "./agent_process.ts";

const EXIT_TIMEOUT_MS = 30_000;

/** What to launch in the prepared folder. */
export interface FolderLaunch {
  /** Text of `./config.toml`, after an `http_port = <free port>` line. */
  readonly config?: string;
  /** Added to (or, when undefined, removed from) the default environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replaces `--config config.toml` (e.g. a config file `prepare` wrote as bytes). */
  readonly args?: readonly string[];
}

/**
 * Makes a new working folder, lets `prepare` write files there and
 * say what to launch, runs the agent (by default with `--config config.toml`)
 * until it exits, then removes the folder.
 *
 * @example
 * ```ts
 * const exit = await runAgentToExitInFolder(async (dir) => {
 *   await Deno.writeTextFile(`${dir}/logs/token`, "");
 *   return { env: { AWS_TOKEN: `file://${dir}/logs/token` } };
 * });
 * ```
 */
export async function runAgentToExitInFolder(
  prepare: (dir: string) => Promise<FolderLaunch> | FolderLaunch,
): Promise<AgentExit> {
  const dir = await Deno.makeTempDir({ prefix: "agent-folder-" });
  try {
    await Deno.mkdir(`${dir}/logs`);
    const launch = await prepare(dir);
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      `http_port = ${freePort()}\n${launch.config ?? ""}`,
    );
    return await run(
      dir,
      await agentEnvironment(dir, launch.env),
      launch.args ?? ["--config", "config.toml"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(
  dir: string,
  env: Record<string, string>,
  args: readonly string[],
): Promise<AgentExit> {
  const [program, ...programArgs] = await agentCommand(args, dir, env);
  const child = new Deno.Command(
    program === "deno" ? Deno.execPath() : program,
    {
      args: programArgs,
      cwd: dir,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    },
  ).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}
