/**
 * Hostile HTTP input over raw TCP against the real agent process: oversized
 * and malformed heads, duplicate token headers, request smuggling, percent-
 * encoding tricks, log forging, and the request forms `fetch` never sends.
 * Every case must get a clear 4xx or a closed connection (or, where the
 * input is legal HTTP, the ordinary answer); after each group /ping still
 * answers, the process is alive, and no answer to a bad request carries a
 * secret value or the token.
 */

import assert from "node:assert/strict";
import {
  AGENT_TOKEN,
  type RunningAgent,
  startAgent,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from "../support/secrets_manager_server.ts";
import {
  exchange,
  type RawExchange,
  type RawResponse,
  requestHead,
} from "../support/raw_http.ts";

const DB_VALUE = "hostile-db-value-7c31e9";
const DOTS_VALUE = "hostile-dots-value-0a5b2d";
const PIPELINE_VALUES = [0, 1, 2, 3, 4].map((i) => `pipelined-value-${i}-e4`);
const TOKEN = `${TOKEN_HEADER}: ${AGENT_TOKEN}`;
const CLOSE = "Connection: close";
const HOST = "Host: 127.0.0.1";
/** Never in an answer to a bad request. */
const FORBIDDEN = [DB_VALUE, DOTS_VALUE, ...PIPELINE_VALUES, AGENT_TOKEN];

interface Fixture extends AsyncDisposable {
  readonly server: SecretsManagerServer;
  readonly agent: RunningAgent;
}

async function startFixture(): Promise<Fixture> {
  const server = await startSecretsManagerServer();
  server.createSecret("h/db", DB_VALUE);
  server.createSecret("h/../db", DOTS_VALUE);
  PIPELINE_VALUES.forEach((value, i) => server.createSecret(`p/${i}`, value));
  try {
    const agent = await startAgent({
      endpoint: server.url,
      config: `log_level = "DEBUG"\n`,
    });
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

/** `GET <target> HTTP/1.1` with Host, the given headers and `Connection: close`. */
function get(target: string, headers: readonly string[] = []): string {
  return requestHead(`GET ${target} HTTP/1.1`, [HOST, ...headers, CLOSE]);
}

/** Many small headers named `X-Pad-<i>`. */
function padding(count: number, size: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `X-Pad-${i}: ${"p".repeat(size)}`,
  );
}

function assertNoLeak(result: RawExchange, label: string): void {
  for (const value of FORBIDDEN) {
    assert.ok(!result.received.includes(value), `${label}: leaked ${value}`);
  }
}

/** A clear 4xx as the only answer, or a close without one; never a secret. */
function assertRejected(result: RawExchange, label: string): void {
  assertNoLeak(result, label);
  const statuses = result.responses.map((response) => response.status);
  assert.ok(
    statuses.length === 0 ? result.isClosed : statuses.length === 1 &&
      statuses[0] >= 400 && statuses[0] < 500,
    `${label}: answered ${
      JSON.stringify(statuses)
    } (closed: ${result.isClosed})`,
  );
}

function only(result: RawExchange, label: string): RawResponse {
  assert.equal(result.responses.length, 1, `${label}: ${result.received}`);
  return result.responses[0];
}

/** Sends each request and expects a rejection. */
async function expectRejected(
  agent: RunningAgent,
  cases: Readonly<Record<string, string | Uint8Array>>,
): Promise<void> {
  for (const [label, request] of Object.entries(cases)) {
    assertRejected(await exchange(agent.port, request), label);
  }
}

/** Sends each request and expects exactly this status and body. */
async function expectAnswers(
  agent: RunningAgent,
  cases: Readonly<Record<string, [string, number, string | RegExp]>>,
): Promise<void> {
  for (const [label, [request, status, body]] of Object.entries(cases)) {
    const result = await exchange(agent.port, request);
    const response = only(result, label);
    assert.equal(response.status, status, `${label}: ${response.body}`);
    if (typeof body === "string") assert.equal(response.body, body, label);
    else assert.match(response.body, body, label);
    if (status !== 200) assertNoLeak(result, label);
  }
}

/** /ping answers 200 over a fresh socket and the process has not exited. */
async function assertStillServing(agent: RunningAgent): Promise<void> {
  const response = only(await exchange(agent.port, get("/ping")), "/ping");
  assert.deepEqual([response.status, response.body], [200, "healthy"]);
  // Signal 0 does not exist in Deno; SIGCONT is harmless to a running process.
  Deno.kill(agent.pid, "SIGCONT");
}

const NOT_FOUND_JSON = /"__type":"ResourceNotFoundException"/;

Deno.test("hostile input over raw TCP, process level", async (t) => {
  await using fixture = await startFixture();
  const { agent, server } = fixture;

  await t.step(
    "an oversized request line, oversized headers and thousands of headers are refused",
    async () => {
      await expectRejected(agent, {
        "330 KiB target": get(`/ping?pad=${"a".repeat(330 * 1024)}`),
        "10 MiB target": get(`/ping?pad=${"a".repeat(10 * 1024 * 1024)}`),
        "one 330 KiB header": get("/ping", [
          `X-Big: ${"b".repeat(330 * 1024)}`,
        ]),
        "33 headers of 10 KiB": get("/ping", padding(33, 10 * 1024)),
        "5000 headers": get("/ping", padding(5000, 4)),
        "5000 headers and the token": get("/v1/h/db", [
          TOKEN,
          ...padding(5000, 4),
        ]),
        "over 321 KiB with the token": get(
          `/v1/h/db?versionStage=${"s".repeat(330 * 1024)}`,
          [TOKEN],
        ),
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "control characters in header names, values and the target are 400",
    async () => {
      await expectRejected(agent, {
        "NUL in a value": get("/ping", ["X-Bad: a\x00b"]),
        "SOH in a value": get("/ping", ["X-Bad: a\x01b"]),
        "DEL in a value": get("/ping", ["X-Bad: a\x7fb"]),
        "bare CR in a value": get("/ping", ["X-Bad: a\rb"]),
        "control character after the token": get("/v1/h/db", [`${TOKEN}\x01`]),
        "SOH in a name": get("/ping", ["X\x01Bad: v"]),
        "space in a name": get("/ping", ["X Bad: v"]),
        "space before the colon": get("/ping", ["X-Bad : v"]),
        "obsolete line folding": get("/ping", ["X-Bad: v", " folded"]),
        "SOH in the target": get("/v1/h\x01db", [TOKEN]),
        "raw space in the target": get("/v1/h db", [TOKEN]),
        "raw 0xFF in the target": get("/v1/h\xffdb", [TOKEN]),
        "SOH in the method": requestHead("G\x01T /ping HTTP/1.1", [
          HOST,
          CLOSE,
        ]),
        "TLS handshake bytes": Uint8Array.of(22, 3, 1, 0, 165, 1, 0, 0, 161, 3),
      });
      // Tab and obs-text (bytes 0x80-0xFF) are legal in a field value.
      await expectAnswers(agent, {
        "tab in a value": [get("/ping", ["X-Ok: a\tb"]), 200, "healthy"],
        "0xFF in a value": [get("/ping", ["X-Ok: a\xffb"]), 200, "healthy"],
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "a token header sent twice is one joined value: 403 whatever the order, also right+right",
    async () => {
      // Deno joins repeated fields with ", " (RFC 9110 5.3), so the check sees
      // "wrong, <token>", never the right value alone: no pair is a bypass,
      // and the answer does not depend on the order.
      const lower = `${TOKEN_HEADER.toLowerCase()}: ${AGENT_TOKEN}`;
      const wrong = `${TOKEN_HEADER}: wrong`;
      await expectAnswers(agent, {
        "wrong then right": [get("/v1/h/db", [wrong, TOKEN]), 403, "Bad Token"],
        "right then wrong": [get("/v1/h/db", [TOKEN, wrong]), 403, "Bad Token"],
        "right twice": [get("/v1/h/db", [TOKEN, TOKEN]), 403, "Bad Token"],
        "right twice, names in two cases": [
          get("/v1/h/db", [TOKEN, lower]),
          403,
          "Bad Token",
        ],
        "right, then empty": [
          get("/v1/h/db", [TOKEN, `${TOKEN_HEADER}:`]),
          403,
          "Bad Token",
        ],
      });
      // Two different configured headers: any one equal to the token passes.
      await expectAnswers(agent, {
        "X-Vault-Token wrong, token header right": [
          get("/v1/h/db", ["X-Vault-Token: wrong", TOKEN]),
          200,
          new RegExp(DB_VALUE),
        ],
        "token header wrong, X-Vault-Token right": [
          get("/v1/h/db", [wrong, `X-Vault-Token: ${AGENT_TOKEN}`]),
          200,
          new RegExp(DB_VALUE),
        ],
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "Transfer-Encoding/Content-Length smuggling is 400 or a close, never a second answer",
    async () => {
      const hidden = requestHead("GET /v1/h/db HTTP/1.1", [HOST, TOKEN]);
      const head = (headers: string[]) =>
        requestHead("GET /ping HTTP/1.1", [HOST, ...headers]);
      await expectRejected(agent, {
        "CL and TE chunked": head([
          `Content-Length: 5`,
          "Transfer-Encoding: chunked",
        ]) + `0\r\n\r\n${hidden}`,
        "TE chunked and CL": head([
          "Transfer-Encoding: chunked",
          `Content-Length: ${hidden.length + 5}`,
        ]) + `0\r\n\r\n${hidden}`,
        "two Content-Length values": head([
          "Content-Length: 5",
          "Content-Length: 6",
        ]) + "abcdef",
        "a Content-Length list": head(["Content-Length: 3, 4"]) + "abcd",
        "a negative Content-Length": head(["Content-Length: -1"]),
        "a signed Content-Length": head(["Content-Length: +3"]) + "abc",
        "chunked with a junk size": head(["Transfer-Encoding: chunked"]) +
          `zz\r\njunk\r\n0\r\n\r\n${hidden}`,
        "chunked, then gzip": head(["Transfer-Encoding: chunked, gzip"]) +
          `0\r\n\r\n${hidden}`,
        "an unknown coding": head(["Transfer-Encoding: xchunked"]) +
          `0\r\n\r\n${hidden}`,
        "space before the TE colon": head(["Transfer-Encoding : chunked"]) +
          `0\r\n\r\n${hidden}`,
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "a body on GET is skipped by its framing: the request inside it is never answered",
    async () => {
      const hidden = requestHead("GET /v1/h/db HTTP/1.1", [HOST, TOKEN]);
      const next = get("/pingx", [TOKEN]);
      const bodies = {
        "Content-Length": requestHead("GET /ping HTTP/1.1", [
          HOST,
          `Content-Length: ${hidden.length}`,
        ]) + hidden,
        "chunked": requestHead("GET /ping HTTP/1.1", [
          HOST,
          "Transfer-Encoding: chunked",
        ]) + `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`,
        "the same Content-Length twice": requestHead("GET /ping HTTP/1.1", [
          HOST,
          `Content-Length: ${hidden.length}`,
          `Content-Length: ${hidden.length}`,
        ]) + hidden,
      };
      for (const [label, request] of Object.entries(bodies)) {
        const result = await exchange(agent.port, request + next);
        assertNoLeak(result, label);
        assert.deepEqual(
          result.responses.map(({ status, body }) => [status, body]),
          [[200, "healthy"], [404, "Not found"]],
          label,
        );
      }
      await assertStillServing(agent);
    },
  );

  await t.step(
    "percent-encoding edge cases in the path are 400 and never decode to another secret",
    async () => {
      const badEncoding = [400, "invalid secret ID encoding"] as const;
      await expectAnswers(agent, {
        "%C0%AF (overlong /)": [get("/v1/h%C0%AFdb", [TOKEN]), ...badEncoding],
        "%FF": [get("/v1/h%FFdb", [TOKEN]), ...badEncoding],
        "%G1": [get("/v1/h%G1db", [TOKEN]), ...badEncoding],
        "a trailing %": [get("/v1/h/db%", [TOKEN]), ...badEncoding],
        // Decodes to a name with a NUL, which Secrets Manager does not have.
        "%00": [get("/v1/h%00db", [TOKEN]), 400, NOT_FOUND_JSON],
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "percent-encoding edge cases in the query are 400 and never decode to another secret",
    async () => {
      server.resetCalls();
      const query = (id: string) =>
        get(`/secretsmanager/get?secretId=${id}`, [TOKEN]);
      // URLSearchParams decodes leniently (bad bytes become U+FFFD, a bad
      // escape stays literal), as the original's form decoding does: the
      // name then does not exist.
      await expectAnswers(agent, {
        "%00": [query("h%00db"), 400, NOT_FOUND_JSON],
        "%C0%AF (overlong /)": [query("h%C0%AFdb"), 400, NOT_FOUND_JSON],
        "%FF": [query("h%FFdb"), 400, NOT_FOUND_JSON],
        "%G1": [query("h%G1db"), 400, NOT_FOUND_JSON],
        "a trailing %": [query("h/db%"), 400, NOT_FOUND_JSON],
        "%FF in a parameter name": [
          get("/secretsmanager/get?%FF=1", [TOKEN]),
          400,
          "unknown parameter: \ufffd",
        ],
      });
      const asked = server.calls().map((call) => call.secretId);
      assert.ok(!asked.includes("h/db"), `asked for ${JSON.stringify(asked)}`);
      await assertStillServing(agent);
    },
  );

  await t.step(
    ".. and %2e%2e are resolved before the checks: no way to a secret without the token",
    async () => {
      await expectAnswers(agent, {
        "/ping/../v1/h/db": [get("/ping/../v1/h/db"), 403, "Bad Token"],
        "/ping/%2e%2e/v1/h/db": [get("/ping/%2e%2e/v1/h/db"), 403, "Bad Token"],
        "/v1/../secretsmanager/get": [
          get("/v1/../secretsmanager/get?secretId=h/db"),
          403,
          "Bad Token",
        ],
        "/v1/%2E%2E/secretsmanager/get": [
          get("/v1/%2E%2E/secretsmanager/get?secretId=h/db"),
          403,
          "Bad Token",
        ],
        "/ping/.. is / (not /ping)": [get("/ping/.."), 403, "Bad Token"],
        "/ping/.. with the token": [get("/ping/..", [TOKEN]), 404, "Not found"],
        "/v1/../ping": [get("/v1/../ping"), 200, "healthy"],
      });
      // Dot segments collapse alike, raw or encoded; a name holding ".."
      // is reached with its slashes encoded.
      await expectAnswers(agent, {
        "/v1/x/../h/db": [
          get("/v1/x/../h/db", [TOKEN]),
          200,
          new RegExp(DB_VALUE),
        ],
        "/v1/x/%2e%2e/h/db": [
          get("/v1/x/%2e%2e/h/db", [TOKEN]),
          200,
          new RegExp(DB_VALUE),
        ],
        "/v1/h%2F..%2Fdb": [
          get("/v1/h%2F..%2Fdb", [TOKEN]),
          200,
          new RegExp(DOTS_VALUE),
        ],
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "a secretId holding LF or CR cannot forge a log line",
    async () => {
      const forged = "2026-01-01T00:00:00.000Z INFO FORGED-ENTRY";
      const encoded = encodeURIComponent(`\n${forged}`);
      const encodedCrLf = encodeURIComponent(`\r\n${forged}`);
      await expectAnswers(agent, {
        "path LF": [get(`/v1/h${encoded}`, [TOKEN]), 400, NOT_FOUND_JSON],
        "path CRLF": [get(`/v1/h${encodedCrLf}`, [TOKEN]), 400, NOT_FOUND_JSON],
        "query LF": [
          get(`/secretsmanager/get?secretId=h${encoded}`, [TOKEN]),
          400,
          NOT_FOUND_JSON,
        ],
        "query CR, no token": [
          get(
            `/secretsmanager/get?secretId=h${
              encodeURIComponent(`\r${forged}`)
            }`,
          ),
          403,
          "Bad Token",
        ],
      });
      const log = await agent.logText();
      assert.match(log, /GET \/v1\/h%0A\S*FORGED-ENTRY 400/);
      for (const line of log.split("\n").filter((line) => line !== "")) {
        assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO|WARN|ERROR) /);
        assert.ok(!line.startsWith(forged.slice(0, 24)), line);
      }
      assert.ok(!/[\r\u2028\u2029]/.test(log), "a raw CR in the log");
      await assertStillServing(agent);
    },
  );

  await t.step(
    "HTTP/1.0 is answered in HTTP/1.0 and closed; 0.9 and 2.0 are 400",
    async () => {
      for (
        const [target, headers, body] of [
          ["/ping", [], /^healthy$/],
          ["/v1/h/db", [TOKEN], new RegExp(DB_VALUE)],
        ] as const
      ) {
        const result = await exchange(
          agent.port,
          requestHead(`GET ${target} HTTP/1.0`, headers),
        );
        const response = only(result, target);
        assert.deepEqual([response.version, response.status], [
          "HTTP/1.0",
          200,
        ]);
        assert.match(response.body, body);
        assert.ok(result.isClosed);
      }
      await expectRejected(agent, {
        "HTTP/0.9": "GET /ping\r\n\r\n",
        "HTTP/2.0 over HTTP/1 framing": get("/ping").replace("1.1", "2.0"),
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "pipelined requests in one write are each answered, in order",
    async () => {
      const keep = (target: string, headers: string[] = []) =>
        requestHead(`GET ${target} HTTP/1.1`, [HOST, ...headers]);
      const request = [
        keep("/ping"),
        ...PIPELINE_VALUES.map((_, i) => keep(`/v1/p/${i}`, [TOKEN])),
        keep("/pingx", [TOKEN]),
        keep("/v1/p/0"),
        get("/secretsmanager/get?secretId=p/4", [TOKEN]),
      ].join("");
      const result = await exchange(agent.port, request);
      assert.deepEqual(
        result.responses.map(({ status, body }) =>
          status === 200 && body.startsWith("{")
            ? JSON.parse(body).SecretString
            : `${status} ${body}`
        ),
        [
          "200 healthy",
          ...PIPELINE_VALUES,
          "404 Not found",
          "403 Bad Token",
          PIPELINE_VALUES[4],
        ],
      );
      assert.ok(result.isClosed, "Connection: close on the last one");
      await assertStillServing(agent);
    },
  );

  await t.step(
    "a Host or absolute-form target naming another machine is 400 Invalid Host, /ping included; loopback names pass",
    async () => {
      server.resetCalls();
      const absolute = (authority: string, target: string) =>
        `http://${authority}${target}`;
      const withHost = (host: string, target: string, headers: string[] = []) =>
        requestHead(`GET ${target} HTTP/1.1`, [
          `Host: ${host}`,
          ...headers,
          CLOSE,
        ]);
      const invalid = [400, "Invalid Host"] as const;
      await expectAnswers(agent, {
        // DNS rebinding: a page at evil.example whose name now points here.
        "Host of another machine, with the token": [
          withHost("evil.example:8080", "/v1/h/db", [TOKEN]),
          ...invalid,
        ],
        "Host of another machine, no token": [
          withHost("evil.example", "/v1/h/db"),
          ...invalid,
        ],
        "Host of another machine, /ping": [
          withHost(`evil.example:${agent.port}`, "/ping"),
          ...invalid,
        ],
        "Host of a name under localhost": [
          withHost("localhost.evil.example", "/v1/h/db", [TOKEN]),
          ...invalid,
        ],
        "Host of another loopback spelling": [
          withHost("127.1", "/v1/h/db", [TOKEN]),
          ...invalid,
        ],
        "absolute, another machine, with the token": [
          get(absolute("evil.example", "/v1/h/db"), [TOKEN]),
          ...invalid,
        ],
        "absolute, another machine, no token": [
          get(absolute("evil.example", "/v1/h/db")),
          ...invalid,
        ],
      });
      assert.equal(server.calls().length, 0, "a call reached AWS");
      const loopback: Record<string, [string, number, RegExp]> = {};
      for (
        const host of [
          "localhost",
          `localhost:${agent.port}`,
          "LOCALHOST",
          "127.0.0.1",
          `127.0.0.1:${agent.port}`,
          "[::1]",
          "[::1]:2773",
        ]
      ) {
        loopback[`Host ${host}`] = [
          withHost(host, "/v1/h/db", [TOKEN]),
          200,
          new RegExp(DB_VALUE),
        ];
      }
      loopback["absolute /ping"] = [
        get(absolute(`127.0.0.1:${agent.port}`, "/ping")),
        200,
        /^healthy$/,
      ];
      loopback["no Host (HTTP/1.0)"] = [
        requestHead("GET /ping HTTP/1.0"),
        200,
        /^healthy$/,
      ];
      await expectAnswers(agent, loopback);
      await expectAnswers(agent, {
        "OPTIONS * (a CORS preflight shape)": [
          requestHead("OPTIONS * HTTP/1.1", [HOST, CLOSE]),
          403,
          "Bad Token",
        ],
      });
      await assertStillServing(agent);
    },
  );

  await t.step(
    "a Host that is not host[:port] is 400, never routed, never a 500",
    async () => {
      const withHost = (host: string, target: string, headers: string[] = []) =>
        requestHead(`GET ${target} HTTP/1.1`, [
          `Host: ${host}`,
          ...headers,
          CLOSE,
        ]);
      const cases: Record<string, string> = {
        // Deno.serve makes request.url "http://" + Host + target.
        "a path in Host": withHost("127.0.0.1/v1/h", "/db", [TOKEN]),
        "a fragment in Host hiding the target": withHost("x/ping#", "/v1/h/db"),
        "a query in Host": withHost("x?a=", "/ping"),
        "a backslash in Host": withHost("x\\y", "/ping"),
        "userinfo in Host": withHost("user@evil", "/ping"),
        "a space in Host": withHost("a b", "/ping"),
        "an unclosed IPv6 literal": withHost("[::1", "/ping"),
        "a port over 65535": withHost("x:99999", "/ping"),
        "a percent escape in Host": withHost("x%00", "/ping"),
        "two Host headers": requestHead("GET /ping HTTP/1.1", [
          "Host: a",
          "Host: b",
          CLOSE,
        ]),
      };
      for (const [label, request] of Object.entries(cases)) {
        const result = await exchange(agent.port, request);
        assertRejected(result, label);
        assert.equal(result.responses[0]?.status, 400, label);
      }
      await expectAnswers(agent, {
        "IPv6 literal and port": [
          withHost("[::1]:2773", "/ping"),
          200,
          "healthy",
        ],
        "empty Host": [withHost("", "/ping"), 200, "healthy"],
      });
      const log = await agent.logText();
      for (const misrouted of ["/?a=/ping", "/y/ping", "/v1/h/db/ping"]) {
        assert.ok(!log.includes(misrouted), `logged as ${misrouted}`);
      }
      await assertStillServing(agent);
    },
  );

  await t.step("the log holds no token and no secret value", async () => {
    const log = await agent.logText();
    for (const value of FORBIDDEN) {
      assert.ok(!log.includes(value), `the log contains ${value}`);
    }
    const { code, stderr } = await agent.stop();
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /TypeError|Invalid URL|Uncaught/, stderr);
  });
});
