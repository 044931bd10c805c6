import assert from "node:assert/strict";
import {
  bounded,
  MAX_LOGGED_METHOD_CHARS,
  MAX_LOGGED_TARGET_CHARS,
  requestLine,
} from "../../src/http/request_line.ts";

Deno.test("a request line is method, path and query, status; short ones as they are", () => {
  assert.equal(
    requestLine({
      method: "GET",
      target: "/v1/db?versionStage=AWSCURRENT",
      status: 200,
    }),
    "GET /v1/db?versionStage=AWSCURRENT 200",
  );
  const atLimit = `/v1/${"a".repeat(MAX_LOGGED_TARGET_CHARS - 4)}`;
  assert.equal(
    requestLine({ method: "GET", target: atLimit, status: 200 }),
    `GET ${atLimit} 200`,
  );
});

Deno.test("a long target is cut after its last delimiter within the bound, with the count left out", () => {
  const id = "x".repeat(5000);
  const line = requestLine({
    method: "GET",
    target: `/secretsmanager/get?secretId=${id}`,
    status: 400,
  });
  assert.equal(
    line,
    "GET /secretsmanager/get?secretId=...[+5000 chars] 400",
  );
  const path = `/v1/app/${"y".repeat(300)}`;
  assert.equal(
    bounded(path, MAX_LOGGED_TARGET_CHARS),
    "/v1/app/...[+300 chars]",
  );
  for (const length of [257, 1000, 64 * 1024]) {
    const cut = bounded(`/${"a/".repeat(length)}`, MAX_LOGGED_TARGET_CHARS);
    assert.ok(cut.length <= MAX_LOGGED_TARGET_CHARS + 20, cut);
  }
});

Deno.test("a cut never keeps part of a query value or path segment, so a token in it is whole or gone", () => {
  const token = "0123456789abcdef".repeat(4);
  for (let pad = 150; pad < 260; pad++) {
    const target = `/v1/${"p".repeat(pad)}?versionStage=${token}&x=1`;
    const cut = bounded(target, MAX_LOGGED_TARGET_CHARS);
    const kept = cut.replace(/\.\.\.\[\+\d+ chars\]$/, "");
    assert.ok(
      kept.includes(token) || !kept.includes(token.slice(0, 4)),
      `pad ${pad}: ${cut}`,
    );
  }
});

Deno.test("an unknown method of any length is cut", () => {
  const line = requestLine({
    method: "M".repeat(60_000),
    target: "/ping",
    status: 405,
  });
  assert.equal(
    line,
    `${"M".repeat(MAX_LOGGED_METHOD_CHARS)}...[+${
      60_000 - MAX_LOGGED_METHOD_CHARS
    } chars] /ping 405`,
  );
});
