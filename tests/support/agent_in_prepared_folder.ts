/**
 * Runs the real agent (the `start` task, as `agent_process.ts` does) in a
 * working folder the test prepares first, with anything a file-writing option
 * cannot express: a `logs/` folder of a chosen mode or owner, a symbolic
 * link planted inside it. The agent may start or refuse to: the result says
 * which, with its output, and the test may look at the folder before it is
 * removed.
 *
 * @module
 */

import {
  agentCommand,
  agentEnvironment,
  type AgentExit,
  freePort,
} from "./agent_process.ts";

const START_TIMEOUT_MS = 30_000;
const LISTENING = /listening on http:\/\/127\.0\.0\.1:/;

/** The agent while it runs, for {@linkcode PreparedLaunch.whileRunning}. */
export interface PreparedAgent {
  readonly dir: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What the agent printed to stderr so far. */
  stderr(): string;
}

/** What one run did. */
export interface PreparedRun {
  /** Whether the agent printed its listening line. */
  readonly started: boolean;
  readonly exit: AgentExit;
}

/** How to prepare, launch and look. */
export interface PreparedLaunch {
  /** Writes into the working folder before the launch (no `logs/` is made for it). */
  prepare(dir: string): Promise<void> | void;
  /** Text of `./config.toml`, after an `http_port = <free port>` line. */
  readonly config?: string;
  /** URL of the local Secrets Manager (and STS); omitted: nothing reachable. */
  readonly endpoint?: string;
  /** Runs once the agent listens; the agent is sent SIGTERM afterwards. */
  whileRunning?(agent: PreparedAgent): Promise<void> | void;
  /** Looks at the folder after the agent exited, before it is removed. */
  inspect?(dir: string, run: PreparedRun): Promise<void> | void;
}

/**
 * Prepares a working folder, runs the agent there until it exits (on its own,
 * or by SIGTERM after `whileRunning`), lets `inspect` look, then removes
 * the folder.
 *
 * @example
 * ```ts
 * const run = await runAgentInPreparedFolder({
 *   prepare: (dir) => Deno.mkdirSync(`${dir}/logs`, { mode: 0o777 }),
 * });
 * ```
 */
export async function runAgentInPreparedFolder(
  launch: PreparedLaunch,
): Promise<PreparedRun> {
  const dir = await Deno.makeTempDir({ prefix: "agent-prepared-" });
  try {
    await launch.prepare(dir);
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      `http_port = ${port}\n${launch.config ?? ""}`,
    );
    const run = await runIn(dir, port, launch);
    await launch.inspect?.(dir, run);
    return run;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runIn(
  dir: string,
  port: number,
  launch: PreparedLaunch,
): Promise<PreparedRun> {
  const endpoint = launch.endpoint;
  const env = await agentEnvironment(
    dir,
    endpoint === undefined ? {} : {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_ENDPOINT_URL_STS: endpoint,
    },
  );
  const [program, ...args] = await agentCommand(
    ["--config", "config.toml"],
    dir,
    env,
  );
  const child = new Deno.Command(
    program === "deno" ? Deno.execPath() : program,
    {
      args,
      cwd: dir,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    },
  ).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const status = child.status;
  // Until the listening line, or the end of stdout (an exit).
  while (!LISTENING.test(stdout.text()) && !stdout.isDone()) {
    await stdout.changed();
  }
  const started = LISTENING.test(stdout.text());
  clearTimeout(timer);
  if (started) {
    try {
      await launch.whileRunning?.({
        dir,
        url: `http://127.0.0.1:${port}`,
        stderr: stderr.text,
      });
    } finally {
      child.kill("SIGTERM");
    }
  }
  const { code } = await status;
  await Promise.all([stdout.done, stderr.done]);
  return {
    started,
    exit: { code, stdout: stdout.text(), stderr: stderr.text() },
  };
}

/** A stream's text as it arrives. */
function collect(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let isDone = false;
  let changed = Promise.withResolvers<void>();
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      changed.resolve();
      changed = Promise.withResolvers<void>();
    }
    isDone = true;
    changed.resolve();
  })();
  return {
    done,
    text: () => text,
    isDone: () => isDone,
    /** Resolves at the next chunk or at the end. */
    changed: () => changed.promise,
  };
}
