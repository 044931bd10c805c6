/**
 * One field of a JSON SecretString: its text, the body with it in
 * SecretString's place, and why there is none.
 */

import assert from "node:assert/strict";
import {
  describeFieldProblem,
  jsonField,
  readBody,
  withJsonField,
} from "../../src/cache/secret_field.ts";
import { toResponseBody } from "../../src/cache/secret_value.ts";

const SECRET =
  '{"user":"app","password":"p\\u00e4ss \\"w\\"","port":5432,"big":12345678901234567890,"ratio":1.50,"nested":{"a":[1, 2.0]},"none":null,"db.host":"h","":"empty"}';

Deno.test("a string field is its text as is; any other value its compact JSON, numbers as written", () => {
  const field = (key: string) => jsonField({ secretString: SECRET }, key);
  assert.deepEqual(field("password"), { ok: true, text: 'päss "w"' });
  assert.deepEqual(field("port"), { ok: true, text: "5432" });
  assert.deepEqual(field("big"), { ok: true, text: "12345678901234567890" });
  assert.deepEqual(field("ratio"), { ok: true, text: "1.50" });
  assert.deepEqual(field("nested"), { ok: true, text: '{"a":[1,2.0]}' });
  assert.deepEqual(field("none"), { ok: true, text: "null" });
  assert.deepEqual(field("db.host"), { ok: true, text: "h" });
  assert.deepEqual(field(""), { ok: true, text: "empty" });
});

Deno.test("a key the object does not hold is absent, inherited names included", () => {
  for (
    const key of ["db", "a", "constructor", "__proto__", "toString", "Password"]
  ) {
    assert.deepEqual(jsonField({ secretString: SECRET }, key), {
      ok: false,
      problem: "absent",
    }, key);
  }
  assert.deepEqual(
    jsonField({ secretString: '{"__proto__":"x"}' }, "__proto__"),
    {
      ok: true,
      text: "x",
    },
  );
});

Deno.test("a SecretString that is not a JSON object, or a binary secret, has no field", () => {
  for (
    const secretString of [
      "plain",
      "",
      "[1,2]",
      '"text"',
      "42",
      "null",
      "{",
      '{"a":1} x',
    ]
  ) {
    assert.deepEqual(jsonField({ secretString }, "a"), {
      ok: false,
      problem: "not_json_object",
    }, secretString);
  }
  assert.deepEqual(jsonField({ secretBinary: "AAEC" }, "a"), {
    ok: false,
    problem: "binary",
  });
});

Deno.test("withJsonField keeps the GetSecretValue shape and order, SecretString replaced", () => {
  const body = toResponseBody({
    arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    name: "db",
    versionId: "v1",
    secretString: SECRET,
    versionStages: ["AWSCURRENT"],
    createdDateMs: 1_700_000_000_123,
  });
  const answer = withJsonField(body, "port");
  assert.ok(answer.ok);
  assert.equal(
    answer.body,
    '{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf","Name":"db","VersionId":"v1","SecretString":"5432","VersionStages":["AWSCURRENT"],"CreatedDate":"1700000000.123"}',
  );
  assert.deepEqual(withJsonField(body, "nope"), {
    ok: false,
    problem: "absent",
  });
  const binary = toResponseBody({
    arn: "a",
    name: "b",
    versionId: "v",
    secretBinary: "AAEC",
    versionStages: [],
  });
  assert.deepEqual(readBody(binary).payload, { secretBinary: "AAEC" });
  assert.deepEqual(withJsonField(binary, "a"), {
    ok: false,
    problem: "binary",
  });
});

Deno.test("each problem is one line naming the parameter and, when absent, the key", () => {
  assert.equal(
    describeFieldProblem("binary", "jsonKey", "k"),
    "jsonKey needs a JSON object in SecretString; the secret is binary",
  );
  assert.equal(
    describeFieldProblem("not_json_object", "json_key", "k"),
    "json_key needs a JSON object in SecretString; the secret's is not one",
  );
  assert.equal(
    describeFieldProblem("absent", "jsonKey", "password"),
    "jsonKey not in the secret's JSON: password",
  );
});
