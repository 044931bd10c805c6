/**
 * Runs the deployment shell scripts under `install/` from tests.
 *
 * @module
 */

/** Absolute path of a file under `install/`. */
export function installPath(name: string): string {
  return new URL(`../../install/${name}`, import.meta.url).pathname;
}

/** Absolute path of a file under `systemd/`. */
export function systemdPath(name: string): string {
  return new URL(`../../systemd/${name}`, import.meta.url).pathname;
}

/** What a script run produced. */
export interface ScriptResult {
  /** Exit code. */
  readonly code: number;
  /** Standard output as text. */
  readonly stdout: string;
  /** Standard error as text. */
  readonly stderr: string;
}

/** Options for {@linkcode runScript}. */
export interface RunScriptOptions {
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** Working directory. */
  readonly cwd?: string;
}

/** Runs `bash script args...` and collects its output. */
export async function runScript(
  script: string,
  args: readonly string[],
  options: RunScriptOptions = {},
): Promise<ScriptResult> {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [script, ...args],
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}
