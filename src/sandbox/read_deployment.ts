/**
 * The I/O edge of the sandbox: reads the configuration file, the AWS profile
 * in use and the program a `credential_process` runs, into a
 * {@linkcode Deployment}. Runs before the agent, with read and env access.
 *
 * @module
 */

import { awsFilePaths, readProfile } from "../aws/profile.ts";
import { loadConfig } from "../config/config.ts";
import { folderOf } from "../files/atomic_file.ts";
import type { Deployment, FolderFound } from "./deployment.ts";

/** Options of {@linkcode readDeployment}. */
export interface ReadDeploymentOptions {
  /** The agent's environment; default this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** The folder the agent runs in; default this process's. The config file is read as given, so a relative path names one in this process's folder. */
  readonly workingDirectory?: string;
}

/**
 * Reads the facts of one deployment. Throws the agent's own `ConfigError`
 * for a configuration file it would refuse.
 */
export async function readDeployment(
  configPath: string | undefined,
  options: ReadDeploymentOptions = {},
): Promise<Deployment> {
  const env = options.env ?? Deno.env.toObject();
  const workingDirectory = options.workingDirectory ?? Deno.cwd();
  const absoluteConfig = configPath === undefined
    ? undefined
    : absolute(configPath, workingDirectory);
  // As given: the agent's messages name the path the way the user wrote it.
  const config = loadConfig(configPath);
  const files = awsFilePaths(env, workingDirectory);
  const profile = await readProfile(env, files);
  const program = profile.credentialProcess?.[0];
  return {
    config,
    configPath: absoluteConfig,
    workingDirectory,
    env,
    home: env.HOME || undefined,
    awsConfigFile: files.configFile,
    awsCredentialsFile: files.credentialsFile,
    profile,
    credentialProgram: program === undefined
      ? undefined
      : findProgram(program, env.PATH ?? "", workingDirectory),
    fileFolders: new Map(
      config.files.map(({ path }) => {
        const folder = folderOf(path);
        return [folder, folderFound(folder)];
      }),
    ),
  };
}

/** What is at `folder`, without following a link there. */
function folderFound(folder: string): FolderFound {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(folder);
  } catch (error) {
    return error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory
      ? "missing"
      : "unreadable";
  }
  return info.isSymlink
    ? "symbolic link"
    : info.isDirectory
    ? "folder"
    : "not a folder";
}

function absolute(path: string, workingDirectory: string): string {
  return path.startsWith("/") ? path : `${workingDirectory}/${path}`;
}

/** Where the program runs from, as Deno resolves it: a path as is, a bare name on PATH. */
function findProgram(
  program: string,
  searchPath: string,
  workingDirectory: string,
): string | undefined {
  if (program.includes("/")) {
    const path = absolute(program, workingDirectory);
    return isExecutable(path) ? path : undefined;
  }
  for (const folder of searchPath.split(":")) {
    if (folder === "") continue;
    const path = `${absolute(folder, workingDirectory)}/${program}`;
    if (isExecutable(path)) return path;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}
