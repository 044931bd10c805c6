/**
 * `deno task footprint`: the agent's start-up and memory beside a bare
 * `Deno.serve` (`bare_server.ts`), measured the same way in the same run,
 * with the ratios the performance doc's targets are stated in:
 *
 * - start to the first answer: spawn, the listening line, then one request
 *   (the agent: a secret it has not cached, from the local Secrets Manager;
 *   the bare server: its fixed body); the agent as `deno task start` runs it
 *   (grants computed by a first `deno` run, then the agent) and with its
 *   grants given up front (as a `deno compile` binary carries them);
 * - the same through the Lambda extension script and a fake Lambda Runtime
 *   API: from the INVOKE event that starts the agent to the first secret;
 * - idle memory (VmRSS and RssAnon) after the first answer, and the agent's
 *   after 1000 secrets of 4 KiB are cached.
 *
 * ```sh
 * deno task footprint [--rounds N]
 * ```
 *
 * Loopback only; every loop is bounded by a count and a deadline.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startBareServer } from "./bare_server.ts";
import { getSecret, measureMemory, processMemory } from "./scenarios.ts";
import {
  AGENT_TOKEN,
  agentEnvironment,
  freePort,
  startAgent,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
} from "../support/secrets_manager_server.ts";
import { FakeLambdaApi, invokeEvent } from "../support/fake_lambda_api.ts";

const SECRETS = 1000;
const SECRET_BYTES = 4096;
const SETTLE_MS = 500;
const DEADLINE_MS = 30_000;
const EXTENSION = new URL(
  "../../install/lambda/secrets-manager-agent-extension.sh",
  import.meta.url,
).pathname;
const START_SCRIPT =
  new URL("../../scripts/start.sh", import.meta.url).pathname;
const LAYER_CONFIG = new URL(
  "../../install/lambda/config.toml",
  import.meta.url,
).pathname;

/** One start: how long to the first answer, and memory once idle. */
interface Start {
  readonly firstAnswerMs: number;
  readonly rssMb: number;
  readonly anonMb: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function settle(): Promise<void> {
  return new Promise((done) => setTimeout(done, SETTLE_MS));
}

async function bareStart(): Promise<Start> {
  const spawnedAt = performance.now();
  const bare = await startBareServer(TOKEN_HEADER, {
    token: AGENT_TOKEN,
    bodyBytes: 200,
  });
  try {
    const response = await fetch(`${bare.url}/`, {
      headers: { [TOKEN_HEADER]: AGENT_TOKEN },
    });
    await response.text();
    if (response.status !== 200) {
      throw new Error(`bare server answered ${response.status}`);
    }
    const firstAnswerMs = performance.now() - spawnedAt;
    await settle();
    return { firstAnswerMs, ...await processMemory(bare.pid) };
  } finally {
    await bare.stop();
  }
}

async function agentStart(
  server: SecretsManagerServer,
  secretId: string,
): Promise<Start> {
  await using agent = await startAgent({ endpoint: server.url });
  await getSecret(agent, secretId);
  const firstAnswerMs = performance.now() - agent.spawnedAt;
  await settle();
  return { firstAnswerMs, ...await processMemory(agent.pid) };
}

/** Asks for `secretId` every 2 ms until it is served; the ms since `since`. */
async function untilServed(
  port: number,
  secretId: string,
  token: string,
  since: number,
): Promise<number> {
  const url = `http://127.0.0.1:${port}/secretsmanager/get?secretId=${
    encodeURIComponent(secretId)
  }`;
  while (performance.now() - since < DEADLINE_MS) {
    try {
      const response = await fetch(url, { headers: { [TOKEN_HEADER]: token } });
      await response.text();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 2));
  }
  throw new Error(`${secretId} was not served within ${DEADLINE_MS} ms`);
}

/** Runs `program` in exactly `env`, its output discarded. */
function spawnQuiet(
  program: string,
  args: string[],
  env: Record<string, string>,
): Deno.ChildProcess {
  return new Deno.Command(program, {
    args,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * The agent as `deno task start` runs it, from this project's folder (where a
 * user runs it, so Deno's caches of its code are warm), polled from spawn.
 */
async function taskStart(
  server: SecretsManagerServer,
  secretId: string,
): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "footprint-task-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    `http_port = ${port}\nlog_to_file = false\n`,
  );
  const env = await agentEnvironment(dir, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
    AWS_ENDPOINT_URL_STS: server.url,
  });
  const since = performance.now();
  const child = spawnQuiet("sh", [
    START_SCRIPT,
    "--config",
    `${dir}/config.toml`,
  ], env);
  try {
    return await untilServed(port, secretId, AGENT_TOKEN, since);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The Lambda path: the extension script registers with a fake Runtime API,
 * starts the agent (the start task, from this project's folder) on the first INVOKE,
 * and asks for the next event once the agent answers `/ping`; timed from the
 * INVOKE to the first secret served.
 */
async function lambdaStart(secretId: string): Promise<number> {
  const sessionToken = "footprint-session-token";
  const upstream = await startSecretsManagerServer({
    credentials: [{ ...TEST_CREDENTIALS, sessionToken }],
  });
  upstream.createSecret(secretId, "lambda value");
  const api = new FakeLambdaApi();
  const dir = await Deno.makeTempDir({ prefix: "footprint-lambda-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    `http_port = ${port}\n${await Deno.readTextFile(LAYER_CONFIG)}`,
  );
  const env = await agentEnvironment(dir, {
    AWS_LAMBDA_RUNTIME_API: api.address,
    AWS_SESSION_TOKEN: sessionToken,
    AWS_TOKEN: undefined,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: upstream.url,
    AWS_ENDPOINT_URL_STS: upstream.url,
    SECRETS_MANAGER_AGENT_CMD: Deno.env.get("AGENT_BINARY") ??
      `sh ${START_SCRIPT}`,
    SECRETS_MANAGER_AGENT_CONFIG: `${dir}/config.toml`,
    SECRETS_MANAGER_AGENT_WORKDIR: dir,
    SECRETS_MANAGER_AGENT_START_TIMEOUT_SECONDS: "30",
  });
  const child = spawnQuiet("bash", [EXTENSION], env);
  try {
    await api.nextRequested(1);
    const invokedAt = performance.now();
    api.pushEvent(invokeEvent("footprint-1"));
    return await untilServed(port, secretId, sessionToken, invokedAt);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await api.close();
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { rounds: { type: "string", default: "3" } },
  });
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 20) {
    console.error("--rounds must be an integer from 1 to 20");
    Deno.exit(2);
  }
  const server = await startSecretsManagerServer();
  try {
    await measure(server, rounds);
  } finally {
    await server.close();
  }
}

async function measure(
  server: SecretsManagerServer,
  rounds: number,
): Promise<void> {
  const bare: Start[] = [];
  const viaTask: number[] = [];
  const granted: Start[] = [];
  const lambda: number[] = [];
  // Interleaved, so a noisy moment of the machine hits every kind alike.
  for (let i = 0; i < rounds; i++) {
    const id = (kind: string) => `footprint/${kind}/${i}`;
    for (const kind of ["task", "granted", "lambda"]) {
      server.createSecret(id(kind), "value");
    }
    bare.push(await bareStart());
    viaTask.push(await taskStart(server, id("task")));
    granted.push(await agentStart(server, id("granted")));
    lambda.push(await lambdaStart(id("lambda")));
  }
  const loaded = await measureMemory(server, {
    secrets: SECRETS,
    secretBytes: SECRET_BYTES,
  });

  const ms = (starts: readonly Start[]) => starts.map((s) => s.firstAnswerMs);
  const mb = (starts: readonly Start[], key: "rssMb" | "anonMb") =>
    median(starts.map((s) => s[key]));
  const bareMs = ms(bare);
  console.log(
    `Medians of ${rounds} starts (samples in brackets); Deno ${Deno.version.deno}; MB = MiB of /proc/<pid>/status.\n`,
  );
  console.log(formatRows([
    timeRow("start to first answer, `deno task start`", viaTask, bareMs),
    timeRow(
      "start to first answer, grants given up front",
      ms(granted),
      bareMs,
    ),
    timeRow(
      "Lambda: INVOKE to first secret, through the extension",
      lambda,
      bareMs,
    ),
    {
      figure: "idle RssAnon",
      agent: mb(granted, "anonMb"),
      bare: mb(bare, "anonMb"),
      unit: "MB",
      maxRatio: 2.0,
    },
    {
      figure: "idle VmRSS",
      agent: mb(granted, "rssMb"),
      bare: mb(bare, "rssMb"),
      unit: "MB",
    },
    {
      figure: `VmRSS with ${SECRETS} cached secrets of ${
        SECRET_BYTES / 1024
      } KiB (RssAnon ${
        loaded.loadedAnonMb.toFixed(1)
      } MB), against the bare server idle`,
      agent: loaded.loadedMb,
      bare: mb(bare, "rssMb"),
      unit: "MB",
      maxRatio: 1.6,
    },
  ]));
}

/** One figure of the table: the agent's, the bare server's, and the target ratio. */
interface Row {
  readonly figure: string;
  readonly agent: number;
  readonly bare: number;
  readonly unit: "ms" | "MB";
  /** Samples behind the agent's and the bare server's medians, if any. */
  readonly samples?: { readonly agent: number[]; readonly bare: number[] };
  readonly maxRatio?: number;
}

function timeRow(figure: string, agent: number[], bare: number[]): Row {
  return {
    figure,
    agent: median(agent),
    bare: median(bare),
    unit: "ms",
    samples: { agent, bare },
    maxRatio: 2.0,
  };
}

/** The rows as a Markdown table with each ratio and whether it meets its target. */
function formatRows(rows: readonly Row[]): string {
  const value = (median: number, unit: Row["unit"], samples?: number[]) =>
    `${median.toFixed(unit === "ms" ? 0 : 1)} ${unit}${
      samples ? ` [${samples.map((v) => v.toFixed(0)).join(", ")}]` : ""
    }`;
  const cells = (parts: readonly string[]) => `| ${parts.join(" | ")} |`;
  return [
    cells(["figure", "agent", "bare Deno.serve", "ratio", "target", "met"]),
    cells(["---", "---:", "---:", "---:", "---:", "---"]),
    ...rows.map((row) => {
      const ratio = row.agent / row.bare;
      return cells([
        row.figure,
        value(row.agent, row.unit, row.samples?.agent),
        value(row.bare, row.unit, row.samples?.bare),
        `${ratio.toFixed(2)} x`,
        row.maxRatio === undefined ? "" : `<= ${row.maxRatio.toFixed(1)} x`,
        row.maxRatio === undefined ? "" : ratio <= row.maxRatio ? "yes" : "no",
      ]);
    }),
  ].join("\n");
}

if (import.meta.main) await main(Deno.args);
