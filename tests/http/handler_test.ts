import assert from "node:assert/strict";
import { UpstreamError } from "../../src/errors.ts";
import type { SecretLookup } from "../../src/http/request.ts";
import { RefusalLog } from "../../src/http/refusal_log.ts";
import { createHandler, type HandlerOptions } from "../../src/http/handler.ts";
import { ManualClock } from "../support/manual_clock.ts";

const TOKEN = "token-123";

interface Harness {
  handle: (path: string, init?: RequestInit) => Promise<Response>;
  /** Sends a request to this URL, as Deno.serve builds it, from this transport. */
  handleUrl: (
    url: string,
    init?: RequestInit,
    transport?: "tcp" | "unix",
  ) => Promise<Response>;
  lookups: SecretLookup[];
  logLines: string[];
  /** Moves the refusal log's windows forward. */
  clock: ManualClock;
}

/** What Deno.serve passes along with a request that came over `transport`. */
function serveInfo(
  transport: "tcp" | "unix",
): Deno.ServeHandlerInfo<Deno.Addr> {
  const remoteAddr: Deno.Addr = transport === "unix"
    ? { transport: "unix", path: "" }
    : { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
  return { remoteAddr, completed: Promise.resolve() };
}

function harness(
  overrides: Partial<HandlerOptions> = {},
  answer: (lookup: SecretLookup) => Promise<string> = (lookup) =>
    Promise.resolve(JSON.stringify({ Name: lookup.secretId })),
): Harness {
  const lookups: SecretLookup[] = [];
  const logLines: string[] = [];
  const clock = new ManualClock();
  const log = {
    info: (line: string) => logLines.push(line),
    error: (line: string) => logLines.push(line),
  };
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
    log,
    refusals: new RefusalLog({ log, scheduler: clock }),
    ...overrides,
  });
  return {
    handle: async (path, init) =>
      await handler(new Request(`http://127.0.0.1:2773${path}`, init)),
    handleUrl: async (url, init, transport = "tcp") =>
      await handler(new Request(url, init), serveInfo(transport)),
    lookups,
    logLines,
    clock,
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

Deno.test("lookups beyond max_conn get 429 while ping still answers", async () => {
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

Deno.test("a fresh cache hit is served while max_conn lookups wait on the cache's fetch", async () => {
  const releases: (() => void)[] = [];
  const { handle } = harness({
    maxConn: 2,
    secrets: {
      peek: (lookup) =>
        lookup.secretId === "cached"
          ? { body: '{"Name":"cached"}', versionId: "v1", outcome: "hit" }
          : undefined,
      // Every miss waits, as on a stalled AWS, until released.
      get: () =>
        new Promise((resolve) =>
          releases.push(() =>
            resolve({ body: "{}", versionId: "v2", outcome: "miss" })
          )
        ),
    },
  });
  const waiting = [handle("/v1/a", authorized), handle("/v1/b", authorized)];
  await expectText(
    await handle("/v1/c", authorized),
    429,
    "Connection limit exceeded",
  );
  await expectText(
    await handle("/v1/cached", authorized),
    200,
    '{"Name":"cached"}',
  );
  // The hit held no slot; the misses still hold both.
  assert.equal((await handle("/v1/d", authorized)).status, 429);
  releases.forEach((release) => release());
  for (const response of await Promise.all(waiting)) {
    assert.equal(response.status, 200);
  }
});

Deno.test("a Host other than localhost, 127.0.0.1 or [::1] is 400 Invalid Host, before the token, /ping included", async () => {
  const { handleUrl, lookups } = harness();
  for (
    const origin of [
      "http://evil.example",
      "http://evil.example:2773",
      "http://127.0.0.2:2773",
      "http://localhost.evil.example:2773",
    ]
  ) {
    for (const init of [authorized, {}]) {
      await expectText(
        await handleUrl(`${origin}/v1/db`, init),
        400,
        "Invalid Host",
      );
    }
    await expectText(await handleUrl(`${origin}/ping`), 400, "Invalid Host");
  }
  assert.equal(lookups.length, 0);
  for (
    const origin of [
      "http://localhost",
      "http://LOCALHOST:2773",
      "http://127.0.0.1",
      "http://[::1]:2773",
    ]
  ) {
    assert.equal((await handleUrl(`${origin}/v1/db`, authorized)).status, 200);
    await expectText(await handleUrl(`${origin}/ping`), 200, "healthy");
  }
});

Deno.test("Forwarded and X-Real-IP are 400 Forwarded like X-Forwarded-For, before the token; /ping skips them", async () => {
  const { handle, lookups } = harness();
  for (
    const header of [
      ["X-Forwarded-For", "203.0.113.7"],
      ["Forwarded", "for=203.0.113.7"],
      ["X-Real-IP", "203.0.113.7"],
    ].map(([name, value]): Record<string, string> => ({ [name]: value }))
  ) {
    for (const token of [authorized.headers, {}]) {
      await expectText(
        await handle("/v1/a", { headers: { ...token, ...header } }),
        400,
        "Forwarded",
      );
    }
    await expectText(
      await handle("/ping", { headers: header }),
      200,
      "healthy",
    );
  }
  assert.equal(lookups.length, 0);
});

Deno.test("on a Unix socket that trusts its mode, proxy headers and a foreign Host are still 400", async () => {
  const { handleUrl, lookups } = harness({ unixSocketRequiresToken: false });
  const socket = "http+unix://localhost";
  assert.equal((await handleUrl(`${socket}/v1/a`, {}, "unix")).status, 200);
  // Deno.serve's URL for a request without a Host header on a socket.
  assert.equal(
    (await handleUrl("http+unix://%2Frun%2Fa.sock/v1/a", {}, "unix")).status,
    200,
  );
  for (const name of ["X-Forwarded-For", "Forwarded", "X-Real-IP"]) {
    await expectText(
      await handleUrl(
        `${socket}/v1/a`,
        { headers: { [name]: "203.0.113.7" } },
        "unix",
      ),
      400,
      "Forwarded",
    );
  }
  await expectText(
    await handleUrl(
      "http+unix://evil.example/v1/a",
      { headers: { host: "evil.example" } },
      "unix",
    ),
    400,
    "Invalid Host",
  );
  assert.equal(lookups.length, 2);
});

Deno.test("a secret id over 2048 characters is 400 before the cache is asked", async () => {
  const { handle, lookups } = harness();
  await expectText(
    await handle(`/v1/${"x".repeat(2049)}`, authorized),
    400,
    "secret ID longer than 2048 characters",
  );
  await expectText(
    await handle(
      `/secretsmanager/get?secretId=${"x".repeat(5000)}`,
      authorized,
    ),
    400,
    "secret ID longer than 2048 characters",
  );
  assert.equal(lookups.length, 0);
  assert.equal(
    (await handle(`/v1/${"x".repeat(2048)}`, authorized)).status,
    200,
  );
  assert.equal(lookups.length, 1);
});

Deno.test("refusals and /ping are logged at a bounded rate; lookups keep a line each, the URL cut", async () => {
  const { handle, logLines, clock } = harness(
    {},
    (lookup) =>
      lookup.secretId.startsWith("missing")
        ? Promise.reject(
          new UpstreamError({
            kind: "service",
            status: 400,
            code: "ResourceNotFoundException",
            message: "Secrets Manager can't find the specified secret.",
          }),
        )
        : Promise.resolve("{}"),
  );
  const pad = "p".repeat(60 * 1024);
  for (let i = 0; i < 200; i++) {
    await handle(`/v1/db?versionStage=${pad}`); // 403
    await handle(`/ping?pad=${pad}`); // 200
    await handle(`/v1/db?x=${pad}`, authorized); // 400 unknown parameter
    await handle("/ping", { method: "POST" }); // 405
  }
  assert.deepEqual(logLines, [
    "GET /v1/db?versionStage=...[+61440 chars] 403",
  ]);
  await clock.advance(1000);
  assert.deepEqual(logLines.slice(1), [
    "Not logged one by one: 799 requests in the last 1000 ms (ping 200 x200, other 400 x200, ping 405 x200, secret 403 x199)",
  ]);
  // Lookups, answered or refused by AWS, each get their own line.
  const id = "a".repeat(1000);
  await handle(`/v1/${id}`, authorized);
  await handle(`/v1/missing${id}`, authorized);
  const [ok, missing] = logLines.slice(2);
  assert.match(ok, /^GET \/v1\/\.\.\.\[\+1000 chars\] 200$/);
  assert.match(missing, /^GET \/v1\/\.\.\.\[\+1007 chars\] 400$/);
  assert.ok(logLines.every((line) => line.length < 400), "a line too long");
});
