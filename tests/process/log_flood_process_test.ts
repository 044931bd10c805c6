/**
 * A flood of requests cannot rotate the log away, process level: requests
 * anyone on the host can send (no token, `/ping`) and every
 * refusal are summarised at most once a second with counts, never a line
 * each; lookups keep their line, the URL cut to a bounded length; and an id
 * longer than Secrets Manager takes is refused before any call to AWS.
 */

import assert from "node:assert/strict";
import { type RunningAgent, startAgent } from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from "../support/secrets_manager_server.ts";

/** Bounded: enough to show a line each would be megabytes. */
const FLOOD_ROUNDS = 60;
const PAD = "p".repeat(8 * 1024);
const SUMMARY = /Not logged one by one: (\d+) requests? in the last 1000 ms/;

interface Fixture extends AsyncDisposable {
  readonly server: SecretsManagerServer;
  readonly agent: RunningAgent;
}

async function startFixture(): Promise<Fixture> {
  const server = await startSecretsManagerServer();
  server.createSecret("flood/db", "flood-value-5a1e");
  try {
    const agent = await startAgent({ endpoint: server.url });
    return {
      server,
      agent,
      async [Symbol.asyncDispose]() {
        await agent[Symbol.asyncDispose]();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

/** The log lines written since `offset` characters of the log. */
async function linesSince(agent: RunningAgent, offset: number) {
  const text = await agent.logText();
  return text.slice(offset).split("\n").filter((line) => line !== "");
}

/** How many requests these lines account for: one each, or a summary's count. */
function accountedFor(lines: readonly string[]): number {
  return lines.reduce((sum, line) => {
    const summary = SUMMARY.exec(line);
    return sum + (summary === null ? 1 : Number(summary[1]));
  }, 0);
}

/** Polls until `condition` holds; fails after `limitMs` rather than hang. */
async function until(condition: () => Promise<boolean>, limitMs = 15_000) {
  const deadline = Date.now() + limitMs;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error("Condition never became true");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("log flooding, process level", async (t) => {
  await using fixture = await startFixture();
  const { agent, server } = fixture;

  await t.step(
    "refused and unauthenticated requests with 8 KiB URLs are summarised once a second, not logged one by one",
    async () => {
      const offset = (await agent.logText()).length;
      const startedAt = performance.now();
      let sent = 0;
      for (let round = 0; round < FLOOD_ROUNDS; round++) {
        const answers = await Promise.all([
          agent.get(`/v1/flood/db?versionStage=${PAD}`, { token: null }),
          agent.get(`/ping?pad=${PAD}`, { token: null }),
          agent.get(`/v1/flood/db?bogus=${PAD}`),
          agent.get(`/v1/${"x".repeat(4096)}`),
          agent.get(`/ping?pad=${PAD}`, { token: null, method: "POST" }),
        ]);
        assert.deepEqual(
          answers.map((answer) => answer.status),
          [403, 200, 400, 400, 405],
        );
        sent += answers.length;
      }
      const elapsedMs = performance.now() - startedAt;
      // Every request is counted once its window has closed.
      let lines: string[] = [];
      await until(async () => {
        lines = await linesSince(agent, offset);
        return accountedFor(lines) >= sent;
      });
      assert.equal(accountedFor(lines), sent, lines.join("\n"));
      // One line on its own, then one summary per window at most.
      assert.ok(
        lines.length <= 2 + Math.ceil(elapsedMs / 1000),
        `${lines.length} lines in ${Math.round(elapsedMs)} ms`,
      );
      for (const line of lines) {
        assert.ok(line.length < 512, `a line of ${line.length} characters`);
        assert.ok(!line.includes(PAD.slice(0, 300)), "a padded URL logged");
      }
      assert.match(lines.join("\n"), /secret 403 x\d+/);
      assert.match(lines.join("\n"), /ping 405 x\d+/);
      assert.equal(server.countCalls("GetSecretValue"), 0);
    },
  );

  await t.step(
    "an id over 2048 characters is 400 without a call to AWS; 2048 is asked for",
    async () => {
      server.resetCalls();
      for (
        const path of [
          `/v1/${"x".repeat(2049)}`,
          `/secretsmanager/get?secretId=${"x".repeat(2049)}`,
          `/v1/${"%78".repeat(2049)}`,
        ]
      ) {
        const answer = await agent.get(path);
        assert.deepEqual(
          [answer.status, answer.body],
          [400, "secret ID longer than 2048 characters"],
        );
      }
      assert.equal(server.calls().length, 0, "a call reached AWS");
      const longest = await agent.get(`/v1/${"x".repeat(2048)}`);
      assert.equal(longest.status, 400);
      assert.equal(
        JSON.parse(longest.body).__type,
        "ResourceNotFoundException",
      );
      assert.equal(server.countCalls("GetSecretValue"), 1);
    },
  );

  await t.step(
    "answers from AWS keep a line each, their URL cut to a bounded length",
    async () => {
      const offset = (await agent.logText()).length;
      const missing = `flood/${"m".repeat(1500)}`;
      for (let i = 0; i < 3; i++) {
        const answer = await agent.get(
          `/secretsmanager/get?secretId=${encodeURIComponent(missing)}`,
        );
        assert.equal(answer.status, 400);
      }
      assert.equal(
        (await agent.get("/secretsmanager/get?secretId=flood/db")).status,
        200,
      );
      let lines: string[] = [];
      await until(async () => {
        lines = await linesSince(agent, offset);
        return lines.length >= 4;
      });
      const requestLines = lines.filter((line) => / GET /.test(line));
      assert.equal(
        requestLines.filter((line) =>
          / GET \/secretsmanager\/get\?secretId=\.\.\.\[\+\d+ chars\] 400$/
            .test(line)
        ).length,
        3,
        lines.join("\n"),
      );
      assert.match(
        requestLines.at(-1)!,
        / GET \/secretsmanager\/get\?secretId=flood\/db 200$/,
      );
      for (const line of lines) assert.ok(line.length < 512, line);
    },
  );
});
