/**
 * The real agent process's HTTP API, seen from outside against the local
 * Secrets Manager: health check, SSRF token, request checks and their order,
 * query errors, answers, the connection limit, the user agent and the log.
 */

import assert from "node:assert/strict";
import {
  AGENT_TOKEN,
  type AgentLaunch,
  type AgentResponse,
  type GetOptions,
  type RunningAgent,
  startAgent,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
  TEST_CREDENTIALS,
  type TestCredentials,
} from "../support/secrets_manager_server.ts";
import { exchange, requestHead } from "../support/raw_http.ts";
import { tokenFileLaunch } from "../support/token_file_launch.ts";
import { VERSION } from "../../src/version.ts";

const FILE_TOKEN = "file-token-8d2b61c0e5";
const SESSION_TOKEN = "session-token-3a9f07d4c2";
const CONTAINER_TOKEN = "container-token-71be94a0d3";
const CUSTOM_HEADER = "X-Custom-Ssrf";
/** Lambda-style credentials: AWS_SESSION_TOKEN is both SSRF token and session token. */
const SESSION_CREDENTIALS: TestCredentials = {
  accessKeyId: "AKIASESSIONTESTEXAMPLE",
  secretAccessKey: "session/test/secret/access/key/EXAMPLEKEY",
  sessionToken: SESSION_TOKEN,
};

const DB_VALUE = "db-value-5e0c1f77";
const VERSION_VALUES = ["ver-one-a1b2c3", "ver-two-d4e5f6", "ver-blue-a7b8c9"];
const BINARY_VALUE = new Uint8Array([0, 1, 2, 127, 128, 250, 255, 10, 13]);
const LARGE_VALUE = "large-value-9b7d".padEnd(60 * 1024, "0123456789abcdef");
const LIMIT_VALUE = "limit-value-2c4e";
const SECRET_VALUES = [
  DB_VALUE,
  ...VERSION_VALUES,
  btoa(String.fromCharCode(...BINARY_VALUE)),
  LARGE_VALUE.slice(0, 32),
  LIMIT_VALUE,
];
const LOG_FORBIDDEN = [
  ...SECRET_VALUES,
  AGENT_TOKEN,
  FILE_TOKEN,
  SESSION_TOKEN,
  CONTAINER_TOKEN,
  TEST_CREDENTIALS.secretAccessKey,
  SESSION_CREDENTIALS.secretAccessKey,
];

const SUCCESS_KEYS = ["ARN", "Name", "VersionId", "VersionStages"];
const LATENCY_MS = 1500;

/** The agents under test, each with the config its rows need. */
const LAUNCHES = {
  main: {},
  custom: {
    config: [
      `ssrf_headers = ["${CUSTOM_HEADER}", "X-Second-Ssrf"]`,
      `path_prefix = "/secrets/"`,
      `log_level = "DEBUG"`,
    ].join("\n"),
  },
  limited: { config: "max_conn = 2\n" },
  fileToken: tokenFileLaunch(FILE_TOKEN),
  session: {
    env: {
      AWS_TOKEN: undefined,
      AWS_SESSION_TOKEN: SESSION_TOKEN,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: CONTAINER_TOKEN,
      AWS_ACCESS_KEY_ID: SESSION_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SESSION_CREDENTIALS.secretAccessKey,
    },
  },
} satisfies Record<string, Omit<AgentLaunch, "endpoint">>;

type Agents = Record<keyof typeof LAUNCHES, RunningAgent>;

interface Fixture extends AsyncDisposable {
  readonly server: SecretsManagerServer;
  readonly agents: Agents;
  /** ARN and version ids of the seeded secrets. */
  readonly seeded: ReturnType<typeof seed>;
}

/** Seeds the secrets every step reads. */
function seed(server: SecretsManagerServer) {
  const db = server.createSecret("http/db", DB_VALUE);
  const first = server.createSecret("http/versioned", VERSION_VALUES[0]);
  const second = server.putSecretValue("http/versioned", VERSION_VALUES[1]);
  const blue = server.putSecretValue("http/versioned", VERSION_VALUES[2], {
    versionStages: ["BLUE"],
  });
  const binary = server.createSecret("http/binary", BINARY_VALUE);
  const large = server.createSecret("http/large", LARGE_VALUE);
  for (let i = 0; i < 4; i++) server.createSecret(`limit/${i}`, LIMIT_VALUE);
  return { db, versions: [first, second, blue], binary, large };
}

/** Starts the server and every agent in parallel; a failed start stops the rest. */
async function startFixture(): Promise<Fixture> {
  const server = await startSecretsManagerServer({
    credentials: [TEST_CREDENTIALS, SESSION_CREDENTIALS],
  });
  const seeded = seed(server);
  const names = Object.keys(LAUNCHES) as (keyof typeof LAUNCHES)[];
  const started = await Promise.allSettled(
    names.map((name) =>
      startAgent({ ...LAUNCHES[name], endpoint: server.url })
    ),
  );
  const running = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : []
  );
  const dispose = async () => {
    await Promise.all(running.map((agent) => agent[Symbol.asyncDispose]()));
    await server.close();
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure !== undefined) {
    await dispose();
    throw (failure as PromiseRejectedResult).reason;
  }
  const agents = Object.fromEntries(
    names.map((name, i) => [name, running[i]]),
  ) as Agents;
  return { server, agents, seeded, [Symbol.asyncDispose]: dispose };
}

/** `/secretsmanager/get?secretId=...&...`, encoded. */
function secretPath(secretId: string, query: Record<string, string> = {}) {
  return `/secretsmanager/get?${new URLSearchParams({ secretId, ...query })}`;
}

/** Sends a request and expects exactly this status and text body. */
async function expectAnswer(
  agent: RunningAgent,
  path: string,
  expected: { status: number; body: string },
  options: GetOptions = {},
): Promise<AgentResponse> {
  const response = await agent.get(path, options);
  assert.deepEqual(
    { status: response.status, body: response.body },
    expected,
    `${options.method ?? "GET"} ${path}`,
  );
  return response;
}

/** Sends a request, expects 200 JSON, and returns the parsed body. */
async function getJson(
  agent: RunningAgent,
  path: string,
  options: GetOptions = {},
): Promise<Record<string, unknown>> {
  const response = await agent.get(path, options);
  assert.equal(response.status, 200, `${path}: ${response.body}`);
  assert.match(
    response.headers.get("content-type") ?? "",
    /^application\/json/,
  );
  return JSON.parse(response.body);
}

/** Checks a success body's exact keys in order and its CreatedDate format. */
function assertSecretShape(
  body: Record<string, unknown>,
  valueKey: "SecretString" | "SecretBinary",
): void {
  const expected = [...SUCCESS_KEYS];
  expected.splice(3, 0, valueKey);
  expected.push("CreatedDate");
  assert.deepEqual(Object.keys(body), expected);
  assert.equal(typeof body.CreatedDate, "string");
  assert.match(body.CreatedDate as string, /^\d+\.\d+$/);
}

/** Polls `condition` until true; fails after `limitMs` rather than hang. */
async function until(condition: () => boolean, limitMs = 10_000) {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition never became true");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Writes raw bytes to the agent and returns the response's status, or null
 * when the connection closed without one.
 */
async function rawStatus(
  port: number,
  request: string,
): Promise<number | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  // A guard against a hang, not a measured duration.
  const guard = setTimeout(() => conn.close(), 10_000);
  const writing = (async () => {
    const bytes = new TextEncoder().encode(request);
    for (let sent = 0; sent < bytes.length;) {
      sent += await conn.write(bytes.subarray(sent));
    }
  })().catch(() => {}); // the agent may close before reading it all
  let received = "";
  try {
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      received += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } catch {
    // Reset or closed by the guard: what arrived so far is the answer.
  }
  clearTimeout(guard);
  await writing;
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1];
  return status === undefined ? null : Number(status);
}

Deno.test("agent HTTP API, process level", async (t) => {
  await using fixture = await startFixture();
  const { server, agents, seeded } = fixture;
  const { main, custom, limited, fileToken, session } = agents;
  const dbPath = secretPath("http/db");

  await t.step("GET /ping answers 200 healthy without a token", async () => {
    await expectAnswer(main, "/ping", { status: 200, body: "healthy" }, {
      token: null,
    });
  });

  await t.step("POST /ping is 405 Not allowed", async () => {
    await expectAnswer(main, "/ping", { status: 405, body: "Not allowed" }, {
      token: null,
      method: "POST",
    });
  });

  await t.step("a request without a token is 403 Bad Token", async () => {
    await expectAnswer(main, dbPath, { status: 403, body: "Bad Token" }, {
      token: null,
    });
  });

  await t.step("a wrong token is 403 Bad Token", async () => {
    for (const token of ["wrong", `${AGENT_TOKEN}x`, AGENT_TOKEN.slice(1)]) {
      await expectAnswer(main, dbPath, { status: 403, body: "Bad Token" }, {
        token,
      });
    }
  });

  await t.step(
    "the token is accepted in either default header, its name in any case",
    async () => {
      for (
        const name of [
          "X-Aws-Parameters-Secrets-Token",
          "x-aws-parameters-secrets-token",
          "X-AWS-PARAMETERS-SECRETS-TOKEN",
          "X-Vault-Token",
          "x-vault-token",
          "X-VAULT-TOKEN",
        ]
      ) {
        const body = await getJson(main, dbPath, {
          token: null,
          headers: { [name]: AGENT_TOKEN },
        });
        assert.equal(body.SecretString, DB_VALUE, name);
      }
      await expectAnswer(main, dbPath, { status: 403, body: "Bad Token" }, {
        token: null,
        headers: { "X-Other-Token": AGENT_TOKEN },
      });
    },
  );

  await t.step(
    "configured ssrf_headers replace the default token headers",
    async () => {
      for (const name of [CUSTOM_HEADER, "x-second-ssrf"]) {
        const body = await getJson(custom, dbPath, {
          token: null,
          headers: { [name]: AGENT_TOKEN },
        });
        assert.equal(body.SecretString, DB_VALUE);
      }
      for (const name of [TOKEN_HEADER, "X-Vault-Token"]) {
        await expectAnswer(custom, dbPath, { status: 403, body: "Bad Token" }, {
          token: null,
          headers: { [name]: AGENT_TOKEN },
        });
      }
    },
  );

  await t.step(
    "a token file named by AWS_TOKEN=file:// is read, trimmed",
    async () => {
      const body = await getJson(fileToken, dbPath, { token: FILE_TOKEN });
      assert.equal(body.SecretString, DB_VALUE);
      await expectAnswer(fileToken, dbPath, { status: 403, body: "Bad Token" });
    },
  );

  await t.step(
    "the first set variable of ssrf_env_variables wins (AWS_TOKEN unset, AWS_SESSION_TOKEN set)",
    async () => {
      const body = await getJson(session, dbPath, { token: SESSION_TOKEN });
      assert.equal(body.SecretString, DB_VALUE);
      for (const token of [CONTAINER_TOKEN, AGENT_TOKEN]) {
        await expectAnswer(
          session,
          dbPath,
          { status: 403, body: "Bad Token" },
          { token },
        );
      }
    },
  );

  await t.step(
    "X-Forwarded-For is 400 Forwarded even with a valid token",
    async () => {
      await expectAnswer(main, dbPath, { status: 400, body: "Forwarded" }, {
        headers: { "X-Forwarded-For": "203.0.113.7" },
      });
    },
  );

  await t.step(
    "X-Forwarded-For is rejected before the token is checked",
    async () => {
      for (const token of ["wrong", null]) {
        await expectAnswer(main, dbPath, { status: 400, body: "Forwarded" }, {
          token,
          headers: { "x-forwarded-for": "203.0.113.7" },
        });
      }
    },
  );

  await t.step(
    "Forwarded and X-Real-IP are 400 Forwarded like X-Forwarded-For, with or without the token; /ping skips them",
    async () => {
      const before = server.countCalls("GetSecretValue");
      for (
        const [name, value] of [
          ["Forwarded", "for=203.0.113.7;proto=http"],
          ["X-Real-IP", "203.0.113.7"],
          ["forwarded", ""],
        ]
      ) {
        for (const token of [AGENT_TOKEN, "wrong", null]) {
          await expectAnswer(
            main,
            secretPath("http/proxied"),
            { status: 400, body: "Forwarded" },
            { token, headers: { [name]: value } },
          );
        }
        await expectAnswer(main, "/ping", { status: 200, body: "healthy" }, {
          token: null,
          headers: { [name]: value },
        });
      }
      assert.equal(server.countCalls("GetSecretValue"), before);
    },
  );

  await t.step(
    "POST, PUT, DELETE, PATCH and HEAD with a valid token are 405 Not allowed",
    async () => {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        await expectAnswer(main, dbPath, { status: 405, body: "Not allowed" }, {
          method,
        });
      }
      await expectAnswer(main, dbPath, { status: 405, body: "" }, {
        method: "HEAD",
      });
    },
  );

  // fetch refuses to send TRACE and CONNECT, so these go over raw TCP. A
  // CONNECT whose target is a path, not host:port, is malformed HTTP: Deno's
  // parser answers it 400 with no body before the agent sees it.
  await t.step(
    "OPTIONS, TRACE and CONNECT with a valid token are 405 Not allowed; a CONNECT to a path is Deno's 400",
    async () => {
      const calls = server.countCalls("GetSecretValue");
      const host = `127.0.0.1:${main.port}`;
      const cases: readonly [string, number, string][] = [
        [`OPTIONS ${dbPath} HTTP/1.1`, 405, "Not allowed"],
        [`TRACE ${dbPath} HTTP/1.1`, 405, "Not allowed"],
        ["OPTIONS * HTTP/1.1", 405, "Not allowed"],
        [`CONNECT ${host} HTTP/1.1`, 405, "Not allowed"],
        [`CONNECT ${dbPath} HTTP/1.1`, 400, ""],
      ];
      for (const [requestLine, status, body] of cases) {
        const { responses } = await exchange(
          main.port,
          requestHead(requestLine, [
            `Host: ${host}`,
            `${TOKEN_HEADER}: ${AGENT_TOKEN}`,
            "Connection: close",
          ]),
        );
        assert.deepEqual(
          responses.map((response) => [response.status, response.body]),
          [[status, body]],
          requestLine,
        );
      }
      assert.equal(server.countCalls("GetSecretValue"), calls);
    },
  );

  await t.step("an unknown path is 404 Not found", async () => {
    for (
      const path of [
        "/",
        "/v1",
        "/pingx",
        "/secretsmanager",
        "/secretsmanager/get/http/db",
        "/secrets/http/db",
      ]
    ) {
      await expectAnswer(main, path, { status: 404, body: "Not found" });
    }
  });

  await t.step(
    "an unknown query parameter is 400 unknown parameter: <name>",
    async () => {
      await expectAnswer(main, `${dbPath}&bogus=1`, {
        status: 400,
        body: "unknown parameter: bogus",
      });
      await expectAnswer(main, "/v1/http/db?secretId=http/db", {
        status: 400,
        body: "unknown parameter: secretId",
      });
    },
  );

  await t.step(
    "a query-style request without secretId is 400 missing parameter secretId",
    async () => {
      for (
        const path of [
          "/secretsmanager/get",
          "/secretsmanager/get?secretId=",
          "/secretsmanager/get?versionStage=AWSCURRENT",
        ]
      ) {
        await expectAnswer(main, path, {
          status: 400,
          body: "missing parameter secretId",
        });
      }
    },
  );

  await t.step(
    "a path-style request without an id is 400 missing secret ID",
    async () => {
      for (const path of ["/v1/", "/v1/?versionStage=AWSCURRENT"]) {
        await expectAnswer(main, path, {
          status: 400,
          body: "missing secret ID",
        });
      }
    },
  );

  await t.step(
    "a refreshNow other than true/false/1/0 is 400 invalid refreshNow value",
    async () => {
      for (const value of ["yes", "2", "", "truee", "t"]) {
        await expectAnswer(
          main,
          secretPath("http/db", { refreshNow: value }),
          { status: 400, body: "invalid refreshNow value" },
        );
      }
    },
  );

  await t.step(
    "refreshNow accepts true, false, 1 and 0 in any case",
    async () => {
      for (
        const value of ["true", "TRUE", "tRuE", "false", "False", "1", "0"]
      ) {
        const body = await getJson(
          main,
          secretPath("http/db", { refreshNow: value }),
        );
        assert.equal(body.SecretString, DB_VALUE, value);
      }
      const body = await getJson(main, "/v1/http/db?refreshNow=TRUE");
      assert.equal(body.SecretString, DB_VALUE);
    },
  );

  await t.step("a repeated parameter takes its last value", async () => {
    const byId = await getJson(
      main,
      "/secretsmanager/get?secretId=http/missing&secretId=http/db",
    );
    assert.equal(byId.Name, "http/db");
    const refresh = await getJson(
      main,
      `${dbPath}&refreshNow=bogus&refreshNow=false`,
    );
    assert.equal(refresh.SecretString, DB_VALUE);
    const stage = await getJson(
      main,
      "/v1/http/versioned?versionStage=AWSCURRENT&versionStage=AWSPREVIOUS",
    );
    assert.equal(stage.SecretString, VERSION_VALUES[0]);
  });

  await t.step(
    "a secret by name answers application/json with keys ARN, Name, VersionId, SecretString, VersionStages, CreatedDate",
    async () => {
      const body = await getJson(main, dbPath);
      assertSecretShape(body, "SecretString");
      assert.deepEqual(
        {
          ARN: body.ARN,
          Name: body.Name,
          VersionId: body.VersionId,
          SecretString: body.SecretString,
          VersionStages: body.VersionStages,
        },
        {
          ARN: seeded.db.arn,
          Name: "http/db",
          VersionId: seeded.db.versionId,
          SecretString: DB_VALUE,
          VersionStages: ["AWSCURRENT"],
        },
      );
    },
  );

  await t.step(
    "a secret by full ARN in the query, raw or percent-encoded",
    async () => {
      const { arn } = seeded.db;
      for (
        const path of [
          `/secretsmanager/get?secretId=${arn}`,
          secretPath(arn),
        ]
      ) {
        const body = await getJson(main, path);
        assert.deepEqual([body.ARN, body.SecretString], [arn, DB_VALUE], path);
      }
    },
  );

  await t.step(
    "a secret by name or full ARN in the path, raw or percent-encoded",
    async () => {
      const { arn } = seeded.db;
      for (
        const id of [arn, encodeURIComponent(arn), "http/db", "http%2Fdb"]
      ) {
        const body = await getJson(main, `/v1/${id}`);
        assert.deepEqual([body.ARN, body.SecretString], [arn, DB_VALUE], id);
      }
    },
  );

  await t.step(
    "a custom path_prefix serves secrets and /v1/ is then 404",
    async () => {
      const headers = { [CUSTOM_HEADER]: AGENT_TOKEN };
      const body = await getJson(custom, "/secrets/http/db", {
        token: null,
        headers,
      });
      assert.equal(body.SecretString, DB_VALUE);
      await expectAnswer(
        custom,
        "/v1/http/db",
        { status: 404, body: "Not found" },
        { token: null, headers },
      );
    },
  );

  await t.step(
    "a binary secret comes back as base64 SecretBinary in key order",
    async () => {
      const body = await getJson(main, secretPath("http/binary"));
      assertSecretShape(body, "SecretBinary");
      const decoded = Uint8Array.from(
        atob(body.SecretBinary as string),
        (char) => char.charCodeAt(0),
      );
      assert.deepEqual(decoded, BINARY_VALUE);
    },
  );

  await t.step("a 60 KB secret comes back whole", async () => {
    const body = await getJson(main, "/v1/http/large");
    assert.equal(body.SecretString, LARGE_VALUE);
    assert.equal(body.VersionId, seeded.large.versionId);
  });

  await t.step(
    "versionStage AWSPREVIOUS, a custom label and versionId each select their version",
    async () => {
      const [first, second, blue] = seeded.versions;
      const cases = [
        [{}, second.versionId, VERSION_VALUES[1], ["AWSCURRENT"]],
        [{ versionStage: "AWSPREVIOUS" }, first.versionId, VERSION_VALUES[0], [
          "AWSPREVIOUS",
        ]],
        [{ versionStage: "BLUE" }, blue.versionId, VERSION_VALUES[2], [
          "BLUE",
        ]],
        [{ versionId: first.versionId }, first.versionId, VERSION_VALUES[0], [
          "AWSPREVIOUS",
        ]],
      ] as const;
      for (const [query, versionId, value, stages] of cases) {
        const body = await getJson(
          main,
          secretPath("http/versioned", query),
        );
        assert.deepEqual(
          [body.VersionId, body.SecretString, body.VersionStages],
          [versionId, value, stages],
          JSON.stringify(query),
        );
      }
    },
  );

  await t.step(
    "a missing secret is 400 ResourceNotFoundException JSON, also with refreshNow=true",
    async () => {
      for (
        const path of [
          secretPath("http/missing"),
          secretPath("http/missing", { refreshNow: "true" }),
          "/v1/http/missing",
        ]
      ) {
        const response = await main.get(path);
        assert.equal(response.status, 400, path);
        assert.match(
          response.headers.get("content-type") ?? "",
          /^application\/json/,
        );
        const body = JSON.parse(response.body);
        assert.deepEqual(Object.keys(body), ["__type", "message"]);
        assert.equal(body.__type, "ResourceNotFoundException");
        assert.equal(typeof body.message, "string");
        assert.notEqual(body.message, "");
      }
    },
  );

  await t.step(
    "an AWS error body whose message is under a capital Message key is passed through as the message",
    async () => {
      const path = secretPath("http/missing-capital");
      const plain = JSON.parse((await main.get(path)).body);
      server.setErrorMessageKey("Message");
      let capital;
      try {
        capital = await main.get(path);
      } finally {
        server.setErrorMessageKey("message");
      }
      assert.equal(capital.status, 400, capital.body);
      assert.deepEqual(JSON.parse(capital.body), plain);
      assert.equal(plain.__type, "ResourceNotFoundException");
      assert.notEqual(plain.message, "");
    },
  );

  await t.step(
    "with max_conn = 2, a third concurrent request is 429 Connection limit exceeded while /ping still answers",
    async () => {
      const before = server.countCalls("GetSecretValue");
      server.setFault({ kind: "latency", ms: LATENCY_MS }, {
        operations: ["GetSecretValue"],
      });
      try {
        const requests = [0, 1, 2, 3].map((i) =>
          limited.get(secretPath(`limit/${i}`))
        );
        // Two requests are now in flight, waiting on the slow server.
        await until(() => server.countCalls("GetSecretValue") - before >= 2);
        const ping = await limited.get("/ping", { token: null });
        assert.deepEqual([ping.status, ping.body], [200, "healthy"]);
        const responses = await Promise.all(requests);
        const refused = responses.filter((r) => r.status === 429);
        const served = responses.filter((r) => r.status === 200);
        assert.ok(refused.length >= 1, "no request was refused");
        assert.equal(refused.length + served.length, responses.length);
        for (const response of refused) {
          assert.equal(response.body, "Connection limit exceeded");
        }
        for (const response of served) {
          assert.equal(JSON.parse(response.body).SecretString, LIMIT_VALUE);
        }
      } finally {
        server.setFault(undefined);
      }
      const after = await getJson(limited, secretPath("limit/0"));
      assert.equal(after.SecretString, LIMIT_VALUE);
    },
  );

  await t.step(
    "calls to Secrets Manager carry aws-secrets-manager-agent/<VERSION> in the user agent",
    () => {
      const calls = server.calls().filter((call) =>
        call.service === "secretsmanager"
      );
      assert.ok(calls.length > 0);
      for (const call of calls) {
        assert.ok(
          call.userAgent.includes(`aws-secrets-manager-agent/${VERSION}`),
          `${call.operation}: ${call.userAgent}`,
        );
      }
    },
  );

  await t.step(
    "a request line and headers over 321 KiB are refused and the agent keeps serving",
    async () => {
      // /ping would answer 200 if the request were read.
      const request = [
        `GET /ping?pad=${"a".repeat(200 * 1024)} HTTP/1.1`,
        "Host: 127.0.0.1",
        `X-Padding: ${"b".repeat(130 * 1024)}`,
        "Connection: close",
        "",
        "",
      ].join("\r\n");
      const status = await rawStatus(main.port, request);
      assert.ok(
        status === null || (status >= 400 && status < 500),
        `answered ${status}`,
      );
      await expectAnswer(main, "/ping", { status: 200, body: "healthy" }, {
        token: null,
      });
    },
  );

  await t.step(
    "the logs hold request lines with path and status, and no secret value, token or credential",
    async () => {
      const logs = new Map<string, string>();
      for (const [name, agent] of Object.entries(agents)) {
        await agent.stop();
        logs.set(name, await agent.logText());
      }
      // Answers from the cache or AWS have a line each; /ping and refusals
      // have one when they come first in a quiet second, else they are
      // counted in the next summary line.
      const expectedLines = {
        main: [
          /GET \/secretsmanager\/get\?secretId=http(%2F|\/)db\b.* 200/,
          /GET \/v1\/http\/missing\b.* 400/,
        ],
        custom: [/GET \/secrets\/http\/db\b.* 200/],
      };
      const expectedRefusals = {
        main: [
          [/GET \/ping\b.* 200/, "ping 200"],
          [/POST \/ping\b.* 405/, "ping 405"],
          [
            /GET \/secretsmanager\/get\?secretId=http(%2F|\/)db\b.* 403/,
            "secret 403",
          ],
          [/GET \/pingx\b.* 404/, "other 404"],
        ],
        custom: [[/GET \/v1\/http\/db\b.* 404/, "other 404"]],
        limited: [[/ 429\b/, "secret 429"]],
      } as const;
      for (const [name, patterns] of Object.entries(expectedLines)) {
        for (const pattern of patterns) {
          assert.match(logs.get(name)!, pattern, `${name} log`);
        }
      }
      for (const [name, refusals] of Object.entries(expectedRefusals)) {
        for (const [line, key] of refusals) {
          const counted = new RegExp(
            `Not logged one by one: .*[(, ]${key} x[0-9]+[,)]`,
          );
          const log = logs.get(name)!;
          assert.ok(
            line.test(log) || counted.test(log),
            `${name} log: neither ${line} nor ${counted}`,
          );
        }
      }
      for (const [name, text] of logs) {
        for (const line of text.split("\n")) {
          assert.ok(line.length < 512, `${name} log: a line too long`);
        }
      }
      for (const [name, text] of logs) {
        for (const forbidden of LOG_FORBIDDEN) {
          assert.ok(
            !text.includes(forbidden),
            `${name} log contains ${forbidden.slice(0, 12)}...`,
          );
        }
      }
    },
  );
});
