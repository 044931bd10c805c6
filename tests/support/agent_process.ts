/**
 * Runs the real agent as a child process, the way `deno task start` runs it
 * (the start script computes the grants for the config and environment,
 * then becomes the agent under them; see {@link agentCommand}), in a copy of
 * the project, pointed at a local Secrets Manager server.
 *
 * With `AGENT_BINARY` set (a `deno compile` output), that binary runs instead,
 * with the same arguments and environment.
 *
 * @module
 */

import { parseCli } from "../../src/cli.ts";
import { permissionsText } from "../../src/sandbox/mod.ts";
import { TEST_CREDENTIALS } from "./secrets_manager_server.ts";

/** The SSRF token every agent started here gets through `AWS_TOKEN`. */
export const AGENT_TOKEN = "process-test-token-4f1c9a2e7b";

/** The header clients send the token in by default. */
export const TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token";

const ROOT = new URL("../../", import.meta.url);
const PROJECT_FILES = ["deno.json", "deno.lock", "main.ts", "src", "scripts"];
const START_TIMEOUT_MS = 30_000;
const HTTP_PORT_LINE = /^\s*http_port\s*=\s*"?(\d+)"?/m;

/** The port the config sets, else the one asked for, else a free one. */
function portFor(launch: AgentLaunch): number {
  const fromConfig = HTTP_PORT_LINE.exec(launch.config ?? "")?.[1];
  return fromConfig ? Number(fromConfig) : launch.port ?? freePort();
}

/** The agent's own stderr lines, blank lines left out. */
export function agentLines(stderr: string): string[] {
  return stderr.split("\n").map((line) => line.trimEnd()).filter((line) =>
    line !== ""
  );
}

/** Variables to set, or (undefined) to remove. */
export type LaunchEnvironment = Readonly<Record<string, string | undefined>>;

/** How to launch one agent. */
export interface AgentLaunch {
  /** URL of the local Secrets Manager (and SSM, STS); omitted: nothing reachable. */
  readonly endpoint?: string;
  /** Text of `./config.toml`; `http_port = <port>` is put before it unless it sets http_port. */
  readonly config?: string;
  /** The agent's port; default a free one. */
  readonly port?: number;
  /** Replaces `--config config.toml`. */
  readonly args?: readonly string[];
  /**
   * Added to (or, when undefined, removed from) the default environment; a
   * function gets the agent's working folder, for values that name files
   * in it.
   */
  readonly env?: LaunchEnvironment | ((dir: string) => LaunchEnvironment);
  /** Files to write into the agent's folder before start, by relative path. */
  readonly files?: Readonly<Record<string, string>>;
  /** The stdout line that tells it is up; default the 127.0.0.1 listening line. */
  readonly listening?: RegExp;
  /** Run the start script itself, grants step and all, for tests of the script. */
  readonly viaStartScript?: boolean;
}

/** What a finished agent process left behind. */
export interface AgentExit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A client's view of one HTTP answer. */
export interface AgentResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

/** Options of {@link RunningAgent.get}. */
export interface GetOptions {
  /** Token to send in {@link TOKEN_HEADER}; null sends none. Default {@link AGENT_TOKEN}. */
  readonly token?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: string;
  /** Where to send it instead of 127.0.0.1: `http://[::1]:<port>`, say. */
  readonly origin?: string;
  /** Send it over this Unix socket instead of TCP. */
  readonly unixSocket?: string;
}

/** An agent that printed its listening line. */
export interface RunningAgent {
  readonly port: number;
  /** The agent's process id (the `deno` running main.ts, or the binary). */
  readonly pid: number;
  /** `performance.now()` just before the agent was spawned, for start-up timing. */
  readonly spawnedAt: number;
  /** The agent's working folder (a copy of the project). */
  readonly dir: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Everything printed to stdout so far. */
  stdout(): string;
  get(path: string, options?: GetOptions): Promise<AgentResponse>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<AgentExit>;
  /** Sends `signal` and returns at once (SIGHUP, say). */
  signal(signal: Deno.Signal): void;
  /** The current log file's text ("" when there is none), once the agent's pending lines are written. */
  logText(): Promise<string>;
  /** Stops the agent if running and removes its folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Longer than the agent's log batch delay, with room for a busy machine. */
const LOG_SETTLE_MS = 50;

async function readLog(dir: string): Promise<string> {
  try {
    return await Deno.readTextFile(`${dir}/logs/secrets_manager_agent.log`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** The `start` task's words, with the agent's arguments after them. */
export async function startTaskCommand(): Promise<string[]> {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  return String(denoJson.tasks.start).split(/\s+/);
}

/** Options of {@link copyProject}. */
export interface CopyProjectOptions {
  /** Paths relative to the project root; default deno.json, deno.lock, main.ts, src. */
  readonly files?: readonly string[];
  /** Prefix of the temp folder's name; default `agent-`. */
  readonly prefix?: string;
  /** An existing folder to copy into instead of a new one. */
  readonly into?: string;
}

/**
 * Copies project files (by default what `deno task start` needs) into a new
 * temp folder (or `into`) and returns its path; the caller removes it.
 */
export async function copyProject(
  options: CopyProjectOptions = {},
): Promise<string> {
  const dir = options.into ??
    await Deno.makeTempDir({ prefix: options.prefix ?? "agent-" });
  for (const name of options.files ?? PROJECT_FILES) {
    const to = `${dir}/${name}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    await copyTree(new URL(name, ROOT), to);
  }
  return dir;
}

/**
 * A fresh working folder with the launch's config and files; the project is
 * copied into it only when the start script runs (see {@link agentCommand}).
 */
async function prepareDir(launch: AgentLaunch, port: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "agent-" });
  const config = launch.config ?? "";
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    HTTP_PORT_LINE.test(config) ? config : `http_port = ${port}\n${config}`,
  );
  for (const [path, text] of Object.entries(launch.files ?? {})) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), {
      recursive: true,
    });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

async function copyTree(from: URL, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (!info.isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to);
  for await (const entry of Deno.readDir(from)) {
    await copyTree(
      new URL(`${from.href}/${entry.name}`),
      `${to}/${entry.name}`,
    );
  }
}

let denoDir: Promise<string> | undefined;

/** Where this Deno keeps its npm cache, so the child finds it offline. */
export function cacheDir(): Promise<string> {
  denoDir ??= (async () => {
    const fromEnv = Deno.env.get("DENO_DIR");
    if (fromEnv) return fromEnv;
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stderr: "null",
    }).output();
    return JSON.parse(new TextDecoder().decode(stdout)).denoDir as string;
  })();
  return denoDir;
}

/**
 * The agent's environment: test credentials, the region, the token, this
 * Deno first on PATH (the start script runs `deno`), HOME the agent's
 * folder; `extra` adds to it or (undefined) removes from it.
 */
export async function agentEnvironment(
  dir: string,
  extra: Readonly<Record<string, string | undefined>> = {},
): Promise<Record<string, string>> {
  const deno = Deno.execPath();
  const env: Record<string, string | undefined> = {
    PATH: `${deno.slice(0, deno.lastIndexOf("/"))}:${
      Deno.env.get("PATH") ?? "/usr/bin:/bin"
    }`,
    DENO_DIR: await cacheDir(),
    NO_COLOR: "1",
    HOME: dir,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_TOKEN: AGENT_TOKEN,
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] =>
      entry[1] !== undefined
    ),
  );
}

/** The start script's V8 flags, so an agent started here runs as the script runs it. */
async function startScriptV8Flags(): Promise<string[]> {
  const script = await Deno.readTextFile(new URL("scripts/start.sh", ROOT));
  return script.match(/--v8-flags=\S+/g) ?? [];
}

/**
 * The start script's two steps, the first done in this process: the grants
 * computed by the same code (`permissionsText`) for the agent's config and
 * environment, then `deno run` under them, in `dir` as the working folder.
 * That saves a Deno start per agent, and running this project's own
 * `main.ts` (not a copy) lets every agent reuse Deno's transpiled and compiled
 * code: a copy at a new path is transpiled, analysed and compiled anew.
 * The script itself runs, from a project copy made in `dir`, when the command
 * line is not a plain run or the computation refuses (the refusal is the
 * script's to print); the sandbox tests run the script for every deployment
 * they cover.
 */
export async function agentCommand(
  args: readonly string[],
  dir: string,
  env: Readonly<Record<string, string>>,
  viaStartScript = false,
): Promise<string[]> {
  const command = parseCli(args);
  const viaScript = async () => {
    await copyProject({ into: dir });
    return [...await startTaskCommand(), ...args];
  };
  if (viaStartScript || command.kind !== "run") return await viaScript();
  const { configPath } = command;
  let flags: string[];
  try {
    flags = (await permissionsText(
      configPath === undefined || configPath.startsWith("/")
        ? configPath
        : `${dir}/${configPath}`,
      { env, workingDirectory: dir },
    )).split("\n").filter((line) => line !== "" && !line.startsWith("#"));
  } catch {
    return await viaScript();
  }
  return [
    "deno",
    "run",
    ...flags,
    ...await startScriptV8Flags(),
    new URL("main.ts", ROOT).pathname,
    ...args,
  ];
}

async function spawn(
  launch: AgentLaunch,
  dir: string,
): Promise<Deno.ChildProcess> {
  const args = launch.args ?? ["--config", "config.toml"];
  const env = await agentEnvironment(dir, {
    ...(launch.endpoint
      ? {
        AWS_ENDPOINT_URL_SECRETS_MANAGER: launch.endpoint,
        AWS_ENDPOINT_URL_SSM: launch.endpoint,
        AWS_ENDPOINT_URL_STS: launch.endpoint,
      }
      : {}),
    ...(typeof launch.env === "function" ? launch.env(dir) : launch.env),
  });
  const binary = Deno.env.get("AGENT_BINARY");
  const [program, ...programArgs] = binary
    ? [binary, ...args]
    : await agentCommand(args, dir, env, launch.viaStartScript);
  return new Deno.Command(program === "deno" ? Deno.execPath() : program, {
    args: programArgs,
    cwd: dir,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a stream's text as it arrives. */
class TextSink {
  text = "";
  readonly done: Promise<void>;
  #changed = Promise.withResolvers<void>();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.text += chunk;
        this.#changed.resolve();
        this.#changed = Promise.withResolvers<void>();
      }
      this.#changed.resolve();
    })();
  }

  /** Resolves once `pattern` matches, or with false when the stream ends. */
  async waitFor(pattern: RegExp): Promise<boolean> {
    let finished = false;
    this.done.then(() => finished = true);
    while (!pattern.test(this.text)) {
      if (finished) return false;
      await Promise.race([this.#changed.promise, this.done]);
    }
    return true;
  }
}

/**
 * Runs main.ts in a project copy under `flags` instead of the computed
 * grants, as an agent started by hand with other flags would run, until it
 * exits; for the refusals a sandbox that lacks a grant gives.
 */
export async function runMainWithFlags(
  flags: readonly string[],
  options: {
    args?: readonly string[];
    env?: Readonly<Record<string, string | undefined>>;
  } = {},
): Promise<AgentExit> {
  const dir = await copyProject();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...flags,
        "main.ts",
        ...(options.args ?? []),
      ],
      cwd: dir,
      clearEnv: true,
      env: await agentEnvironment(dir, options.env),
      stdin: "null",
    }).output();
    return decodedExit(output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The last lines of a stream's text, for failure messages. */
function lastLines(text: string, count = 10): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

/** A finished process's output as text. */
function decodedExit(
  output: { code: number; stdout: Uint8Array; stderr: Uint8Array },
): AgentExit {
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs the agent until it exits on its own (start-up failures, --help). */
export async function runAgentToExit(
  launch: AgentLaunch = {},
): Promise<AgentExit> {
  const dir = await prepareDir(launch, portFor(launch));
  try {
    const child = await spawn(launch, dir);
    const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
    const output = await child.output();
    clearTimeout(timer);
    return decodedExit(output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts the agent and waits for its `listening on` line. */
export async function startAgent(
  launch: AgentLaunch = {},
): Promise<RunningAgent> {
  const port = portFor(launch);
  const dir = await prepareDir(launch, port);
  const spawnedAt = performance.now();
  const child = await spawn(launch, dir);
  const stdout = new TextSink(child.stdout);
  const stderr = new TextSink(child.stderr);
  let exitCode: number | undefined;
  const exited = (async () => {
    const { code } = await child.status;
    exitCode = code;
    await Promise.all([stdout.done, stderr.done]);
    return { code, stdout: stdout.text, stderr: stderr.text };
  })();
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  const listening = await stdout.waitFor(
    launch.listening ?? /listening on http:\/\/127\.0\.0\.1:/,
  );
  clearTimeout(timer);
  if (!listening) {
    const exit = await exited;
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `The agent did not start (exit ${exit.code}):\n${exit.stderr}${exit.stdout}`,
    );
  }
  const url = `http://127.0.0.1:${port}`;
  let running = true;
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (running) {
      running = false;
      child.kill(signal);
    }
    return await exited;
  };
  return {
    port,
    pid: child.pid,
    spawnedAt,
    dir,
    url,
    stdout: () => stdout.text,
    async get(path, options = {}) {
      const headers = new Headers(options.headers);
      const token = options.token === undefined ? AGENT_TOKEN : options.token;
      if (token !== null) headers.set(TOKEN_HEADER, token);
      using client = options.unixSocket === undefined
        ? undefined
        : Deno.createHttpClient({
          proxy: { transport: "unix", path: options.unixSocket },
        });
      try {
        const response = await fetch(`${options.origin ?? url}${path}`, {
          method: options.method ?? "GET",
          headers,
          client,
        });
        return {
          status: response.status,
          body: await response.text(),
          headers: response.headers,
        };
      } catch (error) {
        // Say why the agent did not answer: its exit, and its last words.
        throw new Error(
          `${path}: ${
            error instanceof Error ? error.message : error
          }; the agent ${
            exitCode === undefined ? "is running" : `exited with ${exitCode}`
          }; last stderr lines:\n${lastLines(stderr.text)}`,
          { cause: error },
        );
      }
    },
    stop,
    signal: (signal) => child.kill(signal),
    async logText() {
      // The agent writes lines in batches within 10 ms: read until two reads
      // a while apart agree, so every line logged before the call is in.
      let previous = await readLog(dir);
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, LOG_SETTLE_MS));
        const current = await readLog(dir);
        if (current === previous) return current;
        previous = current;
      }
    },
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    },
  };
}
