import assert from "node:assert/strict";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { FaultSwitch } from "../support/fault_injection.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import {
  rejection,
  secretsManagerClient,
  type TestClientOptions,
} from "../support/sdk_clients.ts";

async function withServer(
  fn: (
    server: SecretsManagerServer,
    client: SecretsManagerClient,
  ) => Promise<void>,
  clientOptions: TestClientOptions = {},
): Promise<void> {
  const server = await startSecretsManagerServer();
  server.createSecret("s", "v");
  const client = secretsManagerClient(server, clientOptions);
  try {
    await fn(server, client);
  } finally {
    client.destroy();
    await server.close();
  }
}

const get = (client: SecretsManagerClient) =>
  client.send(new GetSecretValueCommand({ SecretId: "s" }));

Deno.test("FaultSwitch hits only the scoped operations, the given number of times", () => {
  const faults = new FaultSwitch();
  assert.equal(faults.take("GetSecretValue"), undefined);
  faults.set({ kind: "throttle" }, {
    operations: ["GetSecretValue"],
    times: 2,
  });
  assert.equal(faults.take("DescribeSecret"), undefined);
  assert.deepEqual(faults.take("GetSecretValue"), { kind: "throttle" });
  assert.deepEqual(faults.take("GetSecretValue"), { kind: "throttle" });
  assert.equal(faults.take("GetSecretValue"), undefined);
  faults.set({ kind: "reset" });
  assert.deepEqual(faults.take("Anything"), { kind: "reset" });
  faults.set(undefined);
  assert.equal(faults.take("Anything"), undefined);
  assert.throws(() => faults.set({ kind: "latency", ms: -1 }), RangeError);
  assert.throws(
    () => faults.set({ kind: "reset" }, { times: 1.5 }),
    RangeError,
  );
  for (
    const fault of [
      { kind: "drip", intervalMs: 0 },
      { kind: "huge", bytes: -1 },
      { kind: "huge", bytes: 1.5 },
      { kind: "html", status: 200 },
      { kind: "html", status: 600 },
    ] as const
  ) {
    assert.throws(() => faults.set(fault), RangeError, JSON.stringify(fault));
  }
});

Deno.test("a throttle fault is a 400 ThrottlingException the SDK retries", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "throttle" });
    const error = await rejection(get(client));
    assert.equal(error.name, "ThrottlingException");
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.equal(error.$metadata?.attempts, 2);
    assert.equal(server.countCalls("GetSecretValue"), 2);
  }, { maxAttempts: 2 });
});

Deno.test("a denied fault is a 400 AccessDeniedException, not retried", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "denied" });
    const error = await rejection(get(client));
    assert.equal(error.name, "AccessDeniedException");
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.equal(server.countCalls("GetSecretValue"), 1);
  });
});

Deno.test("status faults are 500 InternalServiceError and 503 ServiceUnavailable", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "status", status: 500 });
    const internal = await rejection(get(client));
    assert.equal(internal.name, "InternalServiceError");
    assert.equal(internal.$metadata?.httpStatusCode, 500);
    assert.equal(internal.$fault, "server");
    server.setFault({ kind: "status", status: 503 });
    const unavailable = await rejection(get(client));
    assert.equal(unavailable.name, "ServiceUnavailable");
    assert.equal(unavailable.$metadata?.httpStatusCode, 503);
  });
});

Deno.test("a fault for the next call only lets the SDK's retry succeed", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "status", status: 500 }, { times: 1 });
    const out = await get(client);
    assert.equal(out.SecretString, "v");
    assert.equal(out.$metadata.attempts, 2);
    assert.deepEqual(server.calls().map((c) => c.fault), ["status", undefined]);
  }, { maxAttempts: 3 });
});

Deno.test("a fault scoped to GetSecretValue leaves DescribeSecret alone", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "throttle" }, { operations: ["GetSecretValue"] });
    assert.ok(
      (await client.send(new DescribeSecretCommand({ SecretId: "s" }))).ARN,
    );
    assert.equal((await rejection(get(client))).name, "ThrottlingException");
  });
});

Deno.test("a latency fault delays the answer but still answers", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "latency", ms: 50 });
    assert.equal((await get(client)).SecretString, "v");
    assert.equal(server.calls()[0].fault, "latency");
  });
});

Deno.test("a reset fault is a connection error: TimeoutError with code ECONNRESET", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "reset" });
    const error = await rejection(get(client));
    assert.equal(error.name, "TimeoutError");
    assert.equal(error.code, "ECONNRESET");
    assert.equal(error.message, "socket hang up");
    assert.equal(error.$metadata?.httpStatusCode, undefined);
  });
});

Deno.test("on a reused connection, Deno's HTTP client repeats a reset request once by itself", async () => {
  await withServer(async (server, client) => {
    assert.equal((await get(client)).SecretString, "v");
    server.setFault({ kind: "reset" }, { times: 1 });
    assert.equal((await get(client)).SecretString, "v");
    assert.deepEqual(server.calls().map((c) => c.fault), [
      undefined,
      "reset",
      undefined,
    ]);
  });
});

Deno.test("a stall fault ends in the SDK's request timeout: TimeoutError with code ETIMEDOUT", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "stall" });
    const error = await rejection(get(client));
    assert.equal(error.name, "TimeoutError");
    assert.equal(error.code, "ETIMEDOUT");
    assert.match(
      error.message,
      /exceeded the configured 100 ms requestTimeout/,
    );
    server.setFault(undefined);
    assert.equal((await get(client)).SecretString, "v");
  }, { requestTimeoutMs: 100 });
});

Deno.test("closing the server ends a stalled request", async () => {
  const server = await startSecretsManagerServer();
  server.createSecret("s", "v");
  const client = secretsManagerClient(server);
  try {
    server.setFault({ kind: "stall" });
    const pending = rejection(get(client));
    while (server.countCalls("GetSecretValue") === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await server.close();
    const error = await pending;
    assert.equal(error.code, "ECONNRESET");
  } finally {
    client.destroy();
    await server.close();
  }
});

/** A GetSecretValue request as fetch sends it (unsigned: a fault answers first). */
function rawGet(server: SecretsManagerServer): Promise<Response> {
  return fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "secretsmanager.GetSecretValue",
    },
    body: JSON.stringify({ SecretId: "s" }),
  });
}

Deno.test("an html fault answers its status with a proxy's HTML page, which the SDK cannot parse", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "html", status: 502 });
    const error = await rejection(get(client));
    assert.equal(error.name, "SyntaxError");
    assert.equal(error.$metadata?.httpStatusCode, 502);
    assert.match(error.message, /<html>/);
    const response = await rawGet(server);
    assert.equal(response.status, 502);
    assert.equal(response.headers.get("content-type"), "text/html");
    assert.match(await response.text(), /502 Bad Gateway/);
    assert.equal(server.calls().at(-1)?.fault, "html");
  }, { maxAttempts: 1 });
});

Deno.test("a huge fault pads a valid answer with whitespace, chunked or declared", async () => {
  await withServer(async (server, client) => {
    server.setFault({ kind: "huge", bytes: 2 * 1024 * 1024 }, { times: 1 });
    assert.equal((await get(client)).SecretString, "v");
    server.setFault({ kind: "huge", bytes: 100_000, declareLength: true });
    const declared = await rawGet(server);
    const text = await declared.text();
    assert.equal(Number(declared.headers.get("content-length")), text.length);
    assert.equal(text.slice(0, 100_000).trim(), "");
    // Unsigned, so AWS's error answer: still valid JSON after the padding.
    assert.equal(typeof JSON.parse(text).__type, "string");
    server.setFault({ kind: "huge", bytes: 100_000 });
    const chunked = await rawGet(server);
    assert.equal(chunked.headers.get("content-length"), null);
    assert.equal(typeof JSON.parse(await chunked.text()).__type, "string");
  });
});

Deno.test("a drip fault sends a 200's headers, then a space at a time, and stops when the client leaves", async () => {
  await withServer(async (server) => {
    server.setFault({ kind: "drip", intervalMs: 10 });
    const response = await rawGet(server);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let received = "";
    while (received.length < 3) {
      const chunk = await reader.read();
      assert.ok(!chunk.done, "the drip never ends the body");
      received += new TextDecoder().decode(chunk.value);
    }
    assert.equal(received.trim(), "");
    await reader.cancel();
    assert.equal(server.calls()[0].fault, "drip");
  });
});
