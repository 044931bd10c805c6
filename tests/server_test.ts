import assert from "node:assert/strict";
import { UpstreamError } from "../src/errors.ts";
import type { SecretLookup } from "../src/request.ts";
import { createHandler, type HandlerOptions } from "../src/server.ts";

const TOKEN = "token-123";

interface Harness {
  handle: (path: string, init?: RequestInit) => Promise<Response>;
  lookups: SecretLookup[];
  logLines: string[];
}

function harness(
  overrides: Partial<HandlerOptions> = {},
  answer: (lookup: SecretLookup) => Promise<string> = (lookup) =>
    Promise.resolve(JSON.stringify({ Name: lookup.secretId })),
): Harness {
  const lookups: SecretLookup[] = [];
  const logLines: string[] = [];
  const handler = createHandler({
    pathPrefix: "/v1/",
    maxConn: 800,
    isAuthorized: (headers) =>
      headers.get("x-aws-parameters-secrets-token") === TOKEN,
    secrets: {
      get: async (lookup) => {
        lookups.push(lookup);
        return { body: await answer(lookup), versionId: "v1", outcome: "miss" };
      },
    },
    log: {
      info: (line) => logLines.push(line),
      error: (line) => logLines.push(line),
    },
    ...overrides,
  });
  return {
    handle: async (path, init) =>
      await handler(new Request(`http://127.0.0.1:2773${path}`, init)),
    lookups,
    logLines,
  };
}

const authorized = {
  headers: { "X-Aws-Parameters-Secrets-Token": TOKEN },
};

async function expectText(response: Response, status: number, body: string) {
  assert.equal(response.status, status);
  assert.equal(await response.text(), body);
}

Deno.test("a hit the service can give at once is a plain Response, without a lookup", async () => {
  const lookups: SecretLookup[] = [];
  const handler = createHandler({
    pathPrefix: "/v1/",
    maxConn: 1,
    isAuthorized: () => true,
    secrets: {
      peek: (lookup) =>
        lookup.secretId === "warm"
          ? { body: '{"Name":"warm"}', versionId: "v1", outcome: "hit" }
          : undefined,
      get: (lookup) => {
        lookups.push(lookup);
        return Promise.resolve({
          body: '{"Name":"cold"}',
          versionId: "v2",
          outcome: "miss",
        });
      },
    },
    log: { info() {}, error() {} },
  });
  const hit = handler(new Request("http://127.0.0.1:2773/v1/warm"));
  assert.ok(hit instanceof Response);
  assert.equal(await hit.text(), '{"Name":"warm"}');
  const miss = handler(new Request("http://127.0.0.1:2773/v1/cold"));
  assert.ok(miss instanceof Promise);
  assert.equal(await (await miss).text(), '{"Name":"cold"}');
  assert.equal(lookups.length, 1);
});

Deno.test("ping answers healthy without a token", async () => {
  const { handle } = harness();
  await expectText(await handle("/ping"), 200, "healthy");
});

Deno.test("ping ignores X-Forwarded-For and a bad token", async () => {
  const { handle } = harness();
  await expectText(
    await handle("/ping", { headers: { "X-Forwarded-For": "1.2.3.4" } }),
    200,
    "healthy",
  );
});

Deno.test("ping with another method is 405", async () => {
  const { handle } = harness();
  await expectText(
    await handle("/ping", { method: "POST" }),
    405,
    "Not allowed",
  );
});

Deno.test("X-Forwarded-For is refused before the token is looked at", async () => {
  const { handle } = harness();
  await expectText(
    await handle("/v1/a", { headers: { "X-Forwarded-For": "1.2.3.4" } }),
    400,
    "Forwarded",
  );
  await expectText(
    await handle("/v1/a", {
      headers: { ...authorized.headers, "X-Forwarded-For": "1.2.3.4" },
    }),
    400,
    "Forwarded",
  );
});

Deno.test("a missing or wrong token is 403 Bad Token", async () => {
  const { handle, lookups } = harness();
  await expectText(await handle("/v1/a"), 403, "Bad Token");
  await expectText(
    await handle("/v1/a", {
      headers: { "X-Aws-Parameters-Secrets-Token": "nope" },
    }),
    403,
    "Bad Token",
  );
  await expectText(
    await handle("/nowhere"),
    403,
    "Bad Token",
  );
  assert.equal(lookups.length, 0);
});

Deno.test("the token is checked before the method and the route", async () => {
  const { handle } = harness();
  await expectText(
    await handle("/v1/a", { method: "DELETE" }),
    403,
    "Bad Token",
  );
  await expectText(
    await handle("/v1/a", { ...authorized, method: "PUT", body: "x" }),
    405,
    "Not allowed",
  );
});

Deno.test("unknown routes are 404 and query errors 400", async () => {
  const { handle } = harness();
  await expectText(await handle("/v2/a", authorized), 404, "Not found");
  await expectText(
    await handle("/secretsmanager/get", authorized),
    400,
    "missing parameter secretId",
  );
  await expectText(
    await handle("/v1/a?x=1", authorized),
    400,
    "unknown parameter: x",
  );
});

Deno.test("a secret request returns the cache's body as JSON", async () => {
  const { handle, lookups } = harness();
  const response = await handle(
    "/secretsmanager/get?secretId=db&versionStage=AWSPREVIOUS",
    authorized,
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.deepEqual(await response.json(), { Name: "db" });
  assert.deepEqual(lookups, [{
    secretId: "db",
    versionStage: "AWSPREVIOUS",
    refreshNow: false,
  }]);
});

Deno.test("upstream failures keep AWS's status and code, or map to 504/502/500", async () => {
  const cases = [
    [
      new UpstreamError({
        kind: "service",
        status: 400,
        code: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret.",
      }),
      400,
      {
        __type: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret.",
      },
    ],
    [new UpstreamError({ kind: "timeout" }), 504, {
      __type: "TimeoutError",
      message: "Timeout",
    }],
    [new UpstreamError({ kind: "connection" }), 502, {
      __type: "ConnectionError",
      message: "Read Error",
    }],
    [
      new UpstreamError({ kind: "internal", detail: "boom" }),
      500,
      { __type: "InternalFailure" },
    ],
    [new Error("not typed"), 500, { __type: "InternalFailure" }],
  ] as const;
  for (const [error, status, body] of cases) {
    const { handle } = harness({}, () => Promise.reject(error));
    const response = await handle("/v1/a", authorized);
    assert.equal(response.status, status);
    assert.deepEqual(await response.json(), body);
  }
});

Deno.test("requests beyond max_conn get 429 while ping has two spare slots", async () => {
  const releases: (() => void)[] = [];
  const { handle } = harness(
    { maxConn: 2 },
    () =>
      releases.length < 2
        ? new Promise((resolve) => releases.push(() => resolve("{}")))
        : Promise.resolve("{}"),
  );
  const held = [handle("/v1/a", authorized), handle("/v1/b", authorized)];
  await expectText(
    await handle("/v1/c", authorized),
    429,
    "Connection limit exceeded",
  );
  await expectText(await handle("/ping"), 200, "healthy");
  releases.forEach((release) => release());
  for (const response of await Promise.all(held)) {
    assert.equal(response.status, 200);
  }
  assert.equal((await handle("/v1/d", authorized)).status, 200);
});

Deno.test("every request is logged with path and status, never the token", async () => {
  const { handle, logLines } = harness();
  await handle("/v1/db?versionStage=AWSCURRENT", authorized);
  await handle("/v1/db");
  assert.deepEqual(logLines, [
    "GET /v1/db?versionStage=AWSCURRENT 200",
    "GET /v1/db 403",
  ]);
  assert.ok(logLines.every((line) => !line.includes(TOKEN)));
});

Deno.test("ping?ready=true reports the readiness callback: 200 only when ready, no token needed", async () => {
  let state: "ready" | "warming up" | "stopping" = "warming up";
  const { handle } = harness({ readiness: () => state });
  await expectText(await handle("/ping?ready=true"), 503, "warming up");
  await expectText(await handle("/ping"), 200, "healthy");
  state = "ready";
  await expectText(await handle("/ping?ready=true"), 200, "ready");
  state = "stopping";
  await expectText(await handle("/ping?ready=true"), 503, "stopping");
  await expectText(await harness().handle("/ping?ready=true"), 200, "ready");
});
