/**
 * `jsonKey` (ours) through the handler: the GetSecretValue shape with one
 * field in SecretString's place, from a fresh hit or a fetch, and the 400s
 * when the secret has no such field.
 */

import assert from "node:assert/strict";
import { createHandler } from "../../src/http/handler.ts";
import type { AuditEvent } from "../../src/http/handler_services.ts";
import type { SecretLookup } from "../../src/http/request.ts";
import { toResponseBody } from "../../src/cache/secret_value.ts";

const BODIES: Record<string, string> = {
  db: toResponseBody({
    arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    name: "db",
    versionId: "v1",
    secretString: '{"username":"app","password":"s3cret","port":5432}',
    versionStages: ["AWSCURRENT"],
    createdDateMs: 1_700_000_000_000,
  }),
  plain: toResponseBody({
    arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:plain-AbCdEf",
    name: "plain",
    versionId: "v2",
    secretString: "not json",
    versionStages: ["AWSCURRENT"],
  }),
  blob: toResponseBody({
    arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:blob-AbCdEf",
    name: "blob",
    versionId: "v3",
    secretBinary: "AAECAw==",
    versionStages: ["AWSCURRENT"],
  }),
};

/** A handler over `BODIES`: `warm` ids are fresh hits, the rest fetched. */
function harness() {
  const lookups: SecretLookup[] = [];
  const audit: AuditEvent[] = [];
  const answer = (lookup: SecretLookup) => {
    const secretId = lookup.secretId.replace(/^warm-/, "");
    return { body: BODIES[secretId], versionId: "v", outcome: "hit" as const };
  };
  const handler = createHandler({
    pathPrefix: "/v1/",
    maxConn: 10,
    isAuthorized: () => true,
    secrets: {
      peek: (lookup) =>
        lookup.secretId.startsWith("warm-") ? answer(lookup) : undefined,
      get: (lookup) => {
        lookups.push(lookup);
        return Promise.resolve({ ...answer(lookup), outcome: "miss" });
      },
    },
    audit: (event) => audit.push(event),
    log: { info() {}, error() {} },
  });
  const get = async (path: string) =>
    await handler(new Request(`http://127.0.0.1:2773${path}`));
  return { get, lookups, audit };
}

Deno.test("jsonKey answers the GetSecretValue shape with the field in SecretString's place, in both styles, from a fetch or a fresh hit", async () => {
  const { get, lookups } = harness();
  const expected = {
    ...JSON.parse(BODIES.db),
    SecretString: "s3cret",
  };
  for (
    const path of [
      "/secretsmanager/get?secretId=db&jsonKey=password",
      "/v1/db?jsonKey=password",
      "/v1/warm-db?jsonKey=password",
    ]
  ) {
    const response = await get(path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), "application/json");
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), expected, path);
    // The fields keep their order: ARN, Name, VersionId, SecretString, ...
    assert.deepEqual(Object.keys(JSON.parse(text)), Object.keys(expected));
  }
  const port = await get("/v1/db?jsonKey=port");
  assert.equal((await port.json()).SecretString, "5432");
  // The cache is asked for the secret, not for the field.
  assert.deepEqual(lookups, [
    { secretId: "db", refreshNow: false },
    { secretId: "db", refreshNow: false },
    { secretId: "db", refreshNow: false },
  ]);
});

Deno.test("jsonKey on a secret that is not a JSON object, on a binary secret, or naming an absent key is a 400 saying which", async () => {
  const { get, audit } = harness();
  const cases: [string, string][] = [
    [
      "/v1/plain?jsonKey=password",
      "jsonKey needs a JSON object in SecretString; the secret's is not one",
    ],
    [
      "/v1/warm-blob?jsonKey=password",
      "jsonKey needs a JSON object in SecretString; the secret is binary",
    ],
    [
      "/secretsmanager/get?secretId=db&jsonKey=pass",
      "jsonKey not in the secret's JSON: pass",
    ],
    [
      "/v1/warm-db?jsonKey=constructor",
      "jsonKey not in the secret's JSON: constructor",
    ],
  ];
  for (const [path, message] of cases) {
    const response = await get(path);
    assert.equal(response.status, 400, path);
    assert.equal(
      response.headers.get("content-type"),
      "text/plain; charset=utf-8",
    );
    const body = await response.text();
    assert.equal(body, message, path);
    assert.doesNotMatch(body, /s3cret|not json/);
  }
  assert.deepEqual(audit.map(({ id, status }) => [id, status]), [
    ["plain", 400],
    ["warm-blob", 400],
    ["db", 400],
    ["warm-db", 400],
  ]);
});

Deno.test("without jsonKey the cached body is answered as it is", async () => {
  const { get } = harness();
  assert.equal(await (await get("/v1/plain")).text(), BODIES.plain);
  assert.equal(await (await get("/v1/warm-blob")).text(), BODIES.blob);
});
