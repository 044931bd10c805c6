/**
 * The real agent process when the local Secrets Manager misbehaves: how each
 * upstream fault reaches the client (its code and message only, never the
 * upstream's own text), that a body which drips or never ends is bounded in
 * time and size, and when an expired entry is served instead.
 */

import assert from "node:assert/strict";
import type { RunningAgent } from "../support/agent_process.ts";
import {
  callsFor,
  secretPath,
  startAgentsWithServer,
  waitPastTtl,
} from "../support/agent_upstream.ts";
import type { Fault } from "../support/secrets_manager_server.ts";

const GET = "GetSecretValue";
const DESCRIBE = "DescribeSecret";
const BOTH = [DESCRIBE, GET];

const INTERNAL_SERVICE_ERROR = {
  __type: "InternalServiceError",
  message: "An error occurred on the server side.",
};
const SERVICE_UNAVAILABLE = {
  __type: "ServiceUnavailable",
  message: "Service is unavailable.",
};
const THROTTLING = { __type: "ThrottlingException", message: "Rate exceeded" };
const CONNECTION_ERROR = { __type: "ConnectionError", message: "Read Error" };
const TIMEOUT_ERROR = { __type: "TimeoutError", message: "Timeout" };

/** Longer than any fault case takes (3 attempts of upstream_timeout_ms, with back-off). */
const ANSWER_BOUND_MS = 30_000;

/** Asks the agent for `path`; returns the status and the parsed JSON body. */
async function ask(
  agent: RunningAgent,
  path: string,
): Promise<{ status: number; body: unknown; text: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`The agent gave no answer within ${ANSWER_BOUND_MS} ms`),
        ),
      ANSWER_BOUND_MS,
    );
  });
  const response = await Promise.race([agent.get(path), bound]).finally(() =>
    clearTimeout(timer)
  );
  return {
    status: response.status,
    body: JSON.parse(response.body),
    text: response.body,
  };
}

interface FaultCase {
  readonly name: string;
  readonly fault: Fault;
  readonly status: number;
  readonly body: unknown;
}

const FAULT_CASES: readonly FaultCase[] = [
  {
    name: "500 InternalServiceError keeps status 500 and its code",
    fault: { kind: "status", status: 500 },
    status: 500,
    body: INTERNAL_SERVICE_ERROR,
  },
  {
    name: "503 ServiceUnavailable keeps status 503 and its code",
    fault: { kind: "status", status: 503 },
    status: 503,
    body: SERVICE_UNAVAILABLE,
  },
  {
    name: "throttling answers 400 ThrottlingException",
    fault: { kind: "throttle" },
    status: 400,
    body: THROTTLING,
  },
  {
    name: "a closed connection answers 502 ConnectionError",
    fault: { kind: "reset" },
    status: 502,
    body: CONNECTION_ERROR,
  },
  {
    name: "a stalled call answers 504 TimeoutError after upstream_timeout_ms",
    fault: { kind: "stall" },
    status: 504,
    body: TIMEOUT_ERROR,
  },
  {
    name:
      "a body dripping a byte every 100 ms answers 504 TimeoutError: upstream_timeout_ms bounds the whole answer",
    fault: { kind: "drip", intervalMs: 100 },
    status: 504,
    body: TIMEOUT_ERROR,
  },
  {
    name:
      "a proxy's HTML 502 answers 502 ConnectionError, without the page or the parser's text",
    fault: { kind: "html", status: 502 },
    status: 502,
    body: CONNECTION_ERROR,
  },
];

Deno.test("upstream faults on an uncached secret", async (t) => {
  await using env = await startAgentsWithServer([
    "upstream_timeout_ms = 300\n",
  ]);
  const { server } = env;
  const [agent] = env.agents;

  for (const [index, { name, fault, status, body }] of FAULT_CASES.entries()) {
    await t.step(`${name}, after retries, and is not cached`, async () => {
      const secretId = `fault/${index}`;
      server.createSecret(secretId, `fault-value-${index}`);
      server.setFault(fault, { operations: [GET] });
      let answer;
      try {
        answer = await ask(agent, secretPath(secretId));
      } finally {
        server.setFault(undefined);
      }
      assert.equal(answer.status, status, answer.text);
      assert.deepEqual(answer.body, body);
      assert.ok(!answer.text.includes(`fault-value-${index}`));
      assert.ok(
        callsFor(server, GET, secretId) > 1,
        "the SDK retries the call before giving up",
      );

      const calls = callsFor(server, GET, secretId);
      const healed = await ask(agent, secretPath(secretId));
      assert.equal(healed.status, 200, healed.text);
      assert.equal(
        (healed.body as { SecretString: string }).SecretString,
        `fault-value-${index}`,
      );
      assert.equal(callsFor(server, GET, secretId), calls + 1);
    });
  }
});

/**
 * The agent's peak resident memory so far, in bytes, from /proc (Linux).
 * Read through `cat`: Deno grants /proc/<pid> files only to --allow-all.
 */
async function peakRssBytes(pid: number): Promise<number> {
  const { code, stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const status = new TextDecoder().decode(stdout);
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) {
    throw new Error(`No VmHWM in /proc/${pid}/status (cat exited ${code})`);
  }
  return Number(kib) * 1024;
}

const MIB = 1024 * 1024;

Deno.test("answers that are too big or not AWS's reach the client as 502 ConnectionError", async (t) => {
  await using env = await startAgentsWithServer([""]);
  const { server } = env;
  const [agent] = env.agents;

  for (const declareLength of [false, true]) {
    await t.step(
      `a 256 MiB body (${
        declareLength ? "declared" : "chunked"
      }) answers 502 ConnectionError, read only up to the 1 MiB bound`,
      async () => {
        const secretId = `huge/${declareLength}`;
        server.createSecret(secretId, "huge-value");
        const before = await peakRssBytes(agent.pid);
        server.setFault(
          { kind: "huge", bytes: 256 * MIB, declareLength },
          { operations: [GET] },
        );
        let answer;
        try {
          answer = await ask(agent, secretPath(secretId));
        } finally {
          server.setFault(undefined);
        }
        assert.equal(answer.status, 502, answer.text);
        assert.deepEqual(answer.body, CONNECTION_ERROR);
        assert.equal(callsFor(server, GET, secretId), 1, "not retried");
        // Buffering the body would take 256 MiB at least (it took 413 MB).
        const grownBytes = (await peakRssBytes(agent.pid)) - before;
        assert.ok(grownBytes < 64 * MIB, `peak RSS grew ${grownBytes} bytes`);

        const healed = await ask(agent, secretPath(secretId));
        assert.equal(healed.status, 200, healed.text);
      },
    );
  }

  await t.step(
    "a proxy's HTML 403 answers 502 ConnectionError, not retried, without the page",
    async () => {
      server.createSecret("html/403", "html-value");
      server.setFault({ kind: "html", status: 403 }, { operations: [GET] });
      let answer;
      try {
        answer = await ask(agent, secretPath("html/403"));
      } finally {
        server.setFault(undefined);
      }
      assert.equal(answer.status, 502, answer.text);
      assert.deepEqual(answer.body, CONNECTION_ERROR);
      assert.equal(callsFor(server, GET, "html/403"), 1);
    },
  );
});

Deno.test("expired entries when refreshing them fails", async (t) => {
  const TTL_MS = 1000;
  await using env = await startAgentsWithServer([
    `ttl_seconds = ${TTL_MS / 1000}\nupstream_timeout_ms = 300\n`,
    `ttl_seconds = ${
      TTL_MS / 1000
    }\nupstream_timeout_ms = 300\nignore_transient_errors = false\n`,
  ]);
  const { server } = env;
  const [tolerant, strict] = env.agents;

  const tolerantIds = ["500", "reset", "stall", "rotated", "throttle"]
    .map((kind) => `stale/${kind}`);
  const strictIds = ["500", "reset"].map((kind) => `strict/${kind}`);
  const cached = new Map<string, string>();
  for (
    const [agent, ids] of [[tolerant, tolerantIds], [
      strict,
      strictIds,
    ]] as const
  ) {
    for (const secretId of ids) {
      server.createSecret(secretId, `${secretId} value`);
      const answer = await ask(agent, secretPath(secretId));
      assert.equal(answer.status, 200, answer.text);
      cached.set(secretId, answer.text);
    }
  }
  server.putSecretValue("stale/rotated", "stale/rotated new value");
  await waitPastTtl(TTL_MS / 1000);

  /** How many `operation` calls for `secretId` met a fault of `kind`. */
  function metFault(secretId: string, operation: string, kind: Fault["kind"]) {
    return server.calls().filter((call) =>
      call.secretId === secretId && call.operation === operation &&
      call.fault === kind
    ).length;
  }

  /**
   * The ask after a stale answer was served from the cache, whose TTL the
   * stale answer restarted: no upstream call came after the first `seen`,
   * unless the restarted TTL had run out by then (a loaded machine can take
   * that long between two asks), which a call a TTL or more after the
   * renewal's last attempt shows. A TTL left unrestarted gives a call at once.
   */
  function assertFromRestartedTtl(secretId: string, seen: number) {
    const calls = server.calls();
    const lastAttempt = calls.slice(0, seen).findLast((call) =>
      call.secretId === secretId
    );
    assert.ok(lastAttempt, `no renewal attempt for ${secretId}`);
    const early = calls.slice(seen).filter((call) =>
      call.secretId !== secretId ||
      call.time.getTime() - lastAttempt.time.getTime() < TTL_MS
    );
    assert.deepEqual(
      early.map((call) => `${call.operation} ${call.secretId}`),
      [],
      "served from the cache",
    );
  }

  /** Asks with `fault` on for `operations`, switching it off afterwards. */
  async function askDuring(
    agent: RunningAgent,
    secretId: string,
    fault: Fault,
    operations: readonly string[] = BOTH,
  ) {
    server.setFault(fault, { operations });
    try {
      return await ask(agent, secretPath(secretId));
    } finally {
      server.setFault(undefined);
    }
  }

  const transient: readonly [string, Fault][] = [
    ["500", { kind: "status", status: 500 }],
    ["reset", { kind: "reset" }],
    ["stall", { kind: "stall" }],
  ];
  for (const [kind, fault] of transient) {
    await t.step(
      `a ${kind} fault on DescribeSecret and GetSecretValue serves the cached value and restarts its TTL`,
      async () => {
        const secretId = `stale/${kind}`;
        const answer = await askDuring(tolerant, secretId, fault);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.text, cached.get(secretId));
        assert.ok(metFault(secretId, DESCRIBE, fault.kind) > 0);

        const seen = server.calls().length;
        const again = await ask(tolerant, secretPath(secretId));
        assert.equal(again.text, cached.get(secretId));
        assertFromRestartedTtl(secretId, seen);
      },
    );
  }

  await t.step(
    "a 500 on GetSecretValue after DescribeSecret saw a rotation serves the cached value",
    async () => {
      const answer = await askDuring(
        tolerant,
        "stale/rotated",
        { kind: "status", status: 500 },
        [GET],
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, cached.get("stale/rotated"));
      assert.equal(callsFor(server, DESCRIBE, "stale/rotated"), 1);
      assert.ok(metFault("stale/rotated", GET, "status") > 1);
    },
  );

  await t.step(
    "throttling while renewing an expired entry serves the cached value (ours: the original answers 400), and a throttled miss the error",
    async () => {
      const answer = await askDuring(tolerant, "stale/throttle", {
        kind: "throttle",
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, cached.get("stale/throttle"));
      assert.ok(metFault("stale/throttle", DESCRIBE, "throttle") > 0);
      const miss = await askDuring(tolerant, "stale/throttle-miss", {
        kind: "throttle",
      });
      assert.equal(miss.status, 400, miss.text);
      assert.deepEqual(miss.body, THROTTLING);
    },
  );

  await t.step(
    "with ignore_transient_errors = false a 500 reaches the client",
    async () => {
      const answer = await askDuring(strict, "strict/500", {
        kind: "status",
        status: 500,
      });
      assert.equal(answer.status, 500, answer.text);
      assert.deepEqual(answer.body, INTERNAL_SERVICE_ERROR);
    },
  );

  await t.step(
    "with ignore_transient_errors = false a closed connection reaches the client",
    async () => {
      const answer = await askDuring(strict, "strict/reset", { kind: "reset" });
      assert.equal(answer.status, 502, answer.text);
      assert.deepEqual(answer.body, CONNECTION_ERROR);
    },
  );
});
