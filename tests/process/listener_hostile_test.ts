/**
 * The listener against a hostile process on the same host: open-file
 * exhaustion with idle connections does not take it down (the agent runs
 * with a lowered open-file limit, so a few dozen connections exhaust it),
 * no other process can bind the agent's port beside it, and
 * `DENO_SERVE_ADDRESS` cannot add a listener even where the grants are
 * wide (the computed ones are in `agent_startup_test.ts`). The pieces
 * (the cap, `EMFILE`, a socket closed under the loop) are proven in
 * `connection_pool_test.ts`.
 */

import assert from "node:assert/strict";
import {
  AGENT_TOKEN,
  agentEnvironment,
  agentLines,
  copyProject,
  freePort,
  type RunningAgent,
  startAgent,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import { withSecretsManagerServer } from "../support/secrets_manager_server.ts";
import { exchange, RawConnection, requestHead } from "../support/raw_http.ts";

const VALUE = "hostile-listener-value-5e21";
/** Descriptors the agent may open beyond those it holds once started. */
const HEADROOM_FDS = 40;
/** Idle connections the attacker opens: several times the headroom. */
const ATTACK_CONNECTIONS = 150;
/** Tries of `/ping` after the attacker lets go, 100 ms apart: about a second. */
const PING_TRIES = 10;
const HOST = "Host: 127.0.0.1";

/** Why the exhaustion test cannot run here, or undefined when it can. */
async function prlimitProblem(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "needs Linux's /proc and prlimit";
  try {
    const { success } = await new Deno.Command("prlimit", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success ? undefined : "prlimit --version failed";
  } catch {
    return "prlimit (util-linux) is not installed";
  }
}

const PRLIMIT_PROBLEM = await prlimitProblem();
if (PRLIMIT_PROBLEM !== undefined) {
  console.log(`Open-file exhaustion test ignored: ${PRLIMIT_PROBLEM}`);
}

/** Status and body of one request on a fresh socket; status 0 when nothing answered. */
async function ask(
  port: number,
  target: string,
  headers: string[] = [],
): Promise<[number, string]> {
  try {
    const { responses } = await exchange(
      port,
      requestHead(`GET ${target} HTTP/1.1`, [
        HOST,
        ...headers,
        "Connection: close",
      ]),
      { timeoutMs: 2_000 },
    );
    return responses.length === 0
      ? [0, ""]
      : [responses[0].status, responses[0].body];
  } catch (error) {
    return [0, error instanceof Error ? error.message : String(error)];
  }
}

/** Lowers the running agent's open-file limit to what it holds plus `headroom`. */
async function limitOpenFiles(pid: number, headroom: number): Promise<number> {
  // Deno grants /proc/<pid> to --allow-all only; ls reads it for us.
  const listing = await new Deno.Command("ls", {
    args: [`/proc/${pid}/fd`],
    stderr: "null",
  }).output();
  const held =
    new TextDecoder().decode(listing.stdout).split("\n").filter(Boolean)
      .length;
  const limit = held + headroom;
  const { success, stderr } = await new Deno.Command("prlimit", {
    args: [`--pid=${pid}`, `--nofile=${limit}:${limit}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return limit;
}

/** Opens up to `count` connections in batches; a refused one counts, not throws. */
async function openIdle(
  port: number,
  count: number,
): Promise<{ open: RawConnection[]; refused: number }> {
  const open: RawConnection[] = [];
  let refused = 0;
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.allSettled(
      Array.from(
        { length: Math.min(10, count - i) },
        () => RawConnection.open(port),
      ),
    );
    for (const result of batch) {
      if (result.status === "fulfilled") open.push(result.value);
      else refused++;
    }
  }
  return { open, refused };
}

/** Why the agent failed, for an assertion message. */
async function agentState(agent: RunningAgent): Promise<string> {
  const log = await agent.logText();
  return `last log lines:\n${log.split("\n").slice(-8).join("\n")}`;
}

Deno.test({
  name:
    `open-file exhaustion by ${ATTACK_CONNECTIONS} idle connections does not take the listener down: the agent answers during the attack and /ping right after it`,
  ignore: PRLIMIT_PROBLEM !== undefined,
  fn: () =>
    withSecretsManagerServer(async (server) => {
      server.createSecret("hostile/db", VALUE);
      await using agent = await startAgent({ endpoint: server.url });
      const token = `${TOKEN_HEADER}: ${AGENT_TOKEN}`;
      assert.equal((await ask(agent.port, "/v1/hostile/db", [token]))[0], 200);
      await limitOpenFiles(agent.pid, HEADROOM_FDS);

      const { open, refused } = await openIdle(agent.port, ATTACK_CONNECTIONS);
      try {
        assert.equal(
          refused,
          0,
          `${refused} connections refused: the listener died\n${await agentState(
            agent,
          )}`,
        );
        // The oldest idle connections made room: the agent still serves.
        assert.deepEqual(
          await ask(agent.port, "/ping"),
          [200, "healthy"],
          await agentState(agent),
        );
        const [status, body] = await ask(agent.port, "/v1/hostile/db", [token]);
        assert.equal(status, 200, body);
        assert.equal(JSON.parse(body).SecretString, VALUE);
      } finally {
        for (const conn of open) conn.close();
      }

      let answered: [number, string] = [0, ""];
      for (let i = 0; i < PING_TRIES && answered[0] !== 200; i++) {
        answered = await ask(agent.port, "/ping");
        if (answered[0] !== 200) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      assert.deepEqual(
        answered,
        [200, "healthy"],
        `no /ping answer after the attacker let go\n${await agentState(agent)}`,
      );
      const log = await agent.logText();
      assert.match(log, /out of file descriptors/, "the attack fell short");
      assert.doesNotMatch(log, /Unhandled failure/);
      const exit = await agent.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }),
});

/** Whether the test process can bind `hostname:port` too. */
function canBind(hostname: string, port: number, reusePort: boolean): boolean {
  try {
    Deno.listen({ hostname, port, reusePort }).close();
    return true;
  } catch (error) {
    assert.ok(error instanceof Deno.errors.AddrInUse, String(error));
    return false;
  }
}

Deno.test("no process can bind the agent's port beside it, with or without SO_REUSEPORT, on 127.0.0.1 or [::1]", async () => {
  await withSecretsManagerServer(async (server) => {
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'listen_addresses = ["127.0.0.1", "::1"]',
    });
    for (const hostname of ["127.0.0.1", "::1"]) {
      for (const reusePort of [true, false]) {
        assert.equal(
          canBind(hostname, agent.port, reusePort),
          false,
          `a second socket bound ${hostname}:${agent.port} (reusePort: ${reusePort})`,
        );
      }
    }
    assert.equal((await agent.get("/ping", { token: null })).status, 200);
  });
});

/** A bound on a start-up the test expects to fail. */
const START_LIMIT_MS = 30_000;

/**
 * Runs main.ts by hand under `flags` until it exits, or until it prints its
 * listening line (then it is killed, and the exit says so), within
 * {@link START_LIMIT_MS}.
 */
async function runByHand(
  flags: readonly string[],
  config: string,
  env: Record<string, string>,
): Promise<{ code: number; stderr: string; hasListened: boolean }> {
  const dir = await copyProject();
  try {
    await Deno.writeTextFile(`${dir}/config.toml`, config);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...flags,
        "main.ts",
        "--config",
        "config.toml",
      ],
      cwd: dir,
      clearEnv: true,
      env: await agentEnvironment(dir, env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), START_LIMIT_MS);
    let hasListened = false;
    const watching = (async () => {
      const lines = child.stdout.pipeThrough(new TextDecoderStream());
      for await (const chunk of lines) {
        if (!hasListened && /listening on/.test(chunk)) {
          hasListened = true;
          child.kill("SIGKILL");
        }
      }
    })();
    const stderr = new Response(child.stderr).text();
    const { code } = await child.status;
    clearTimeout(timer);
    await watching;
    return { code, stderr: await stderr, hasListened };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an agent run by hand with wide net grants refuses DENO_SERVE_ADDRESS=duplicate,tcp:127.0.0.1:<port> before binding anything", async () => {
  const exit = await runByHand(
    [
      "--allow-net=127.0.0.1,[::1]",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
    ],
    `http_port = ${freePort()}\nvalidate_credentials = false\nlog_to_file = false\n`,
    { DENO_SERVE_ADDRESS: `duplicate,tcp:127.0.0.1:${freePort()}` },
  );
  assert.equal(exit.hasListened, false, `the agent started:\n${exit.stderr}`);
  assert.equal(exit.code, 1, exit.stderr);
  assert.deepEqual(
    agentLines(exit.stderr).map((line) =>
      /^DENO_SERVE_ADDRESS is set: unset it to start the agent\b/.test(line)
    ),
    [true],
    exit.stderr,
  );
});
