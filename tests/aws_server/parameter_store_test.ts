import assert from "node:assert/strict";
import { ParameterStore } from "../support/parameter_store.ts";
import { ServiceError } from "../support/service_error.ts";

function newStore(): { store: ParameterStore; clock: { ms: number } } {
  const clock = { ms: 1_700_000_000_250 };
  const store = new ParameterStore({
    region: "eu-west-1",
    accountId: "111122223333",
    now: () => clock.ms,
  });
  return { store, clock };
}

function assertServiceError(fn: () => unknown, code: string, message?: string) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ServiceError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.status, 400);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

Deno.test("every put adds a version numbered from 1, and a read without selector gets the latest", () => {
  const { store, clock } = newStore();
  assert.deepEqual(store.putParameter("/app/db/password", "one"), {
    name: "/app/db/password",
    arn: "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db/password",
    version: 1,
  });
  clock.ms += 1000;
  assert.equal(store.putParameter("/app/db/password", "two").version, 2);
  assert.deepEqual(store.getParameter("/app/db/password"), {
    name: "/app/db/password",
    arn: "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db/password",
    type: "String",
    value: "two",
    version: 2,
    lastModifiedDateMs: 1_700_000_001_250,
    labels: [],
    dataType: "text",
  });
  assert.deepEqual(
    store.getParameterHistory("/app/db/password").map((p) => [
      p.version,
      p.value,
      p.lastModifiedDateMs,
    ]),
    [[1, "one", 1_700_000_000_250], [2, "two", 1_700_000_001_250]],
  );
});

Deno.test("a top-level name's ARN is parameter/<name>, and the type carries over to the next put", () => {
  const { store } = newStore();
  const put = store.putParameter("plain", "a,b", { type: "StringList" });
  assert.equal(put.arn, "arn:aws:ssm:eu-west-1:111122223333:parameter/plain");
  store.putParameter("plain", "c,d");
  assert.equal(store.getParameter("plain").type, "StringList");
  store.putParameter("plain", "secret", { type: "SecureString" });
  assert.equal(store.getParameter("plain").type, "SecureString");
});

Deno.test("a parameter is found by its ARN, for names with and without a leading slash", () => {
  const { store } = newStore();
  store.putParameter("/app/db/password", "hier");
  store.putParameter("plain", "flat");
  store.putParameter("/top", "slashed");
  const arn = "arn:aws:ssm:eu-west-1:111122223333:parameter";
  assert.equal(store.getParameter(`${arn}/app/db/password`).value, "hier");
  assert.equal(store.getParameter(`${arn}/plain`).value, "flat");
  assert.equal(store.getParameter(`${arn}/top`).value, "slashed");
  assert.equal(store.getParameter(`${arn}/top`).name, "/top");
  assertServiceError(
    () => store.getParameter(`${arn}/app/db`),
    "ParameterNotFound",
    "",
  );
});

Deno.test("an ARN of another account or region is not found here", () => {
  const { store } = newStore();
  store.putParameter("plain", "v");
  for (
    const arn of [
      "arn:aws:ssm:eu-west-1:999999999999:parameter/plain",
      "arn:aws:ssm:us-east-1:111122223333:parameter/plain",
    ]
  ) {
    assertServiceError(() => store.getParameter(arn), "ParameterNotFound");
  }
});

Deno.test("a :version selector picks that version and is reported back", () => {
  const { store } = newStore();
  store.putParameter("/p", "one");
  store.putParameter("/p", "two");
  store.putParameter("/p", "three");
  const found = store.getParameter("/p:2");
  assert.equal(found.value, "two");
  assert.equal(found.version, 2);
  assert.equal(found.selector, ":2");
  assert.equal(found.name, "/p");
  const byArn = store.getParameter(
    "arn:aws:ssm:eu-west-1:111122223333:parameter/p:1",
  );
  assert.deepEqual([byArn.value, byArn.selector], ["one", ":1"]);
  assertServiceError(
    () => store.getParameter("/p:4"),
    "ParameterVersionNotFound",
    "Systems Manager could not find version 4 of /p. Verify the version and try again.",
  );
});

Deno.test("a label sits on one version at a time and moves when put on another", () => {
  const { store } = newStore();
  store.putParameter("/p", "one", { labels: ["prod", "blue"] });
  store.putParameter("/p", "two");
  assert.equal(store.getParameter("/p:prod").value, "one");
  store.labelParameterVersion("/p", 2, ["prod"]);
  assert.equal(store.getParameter("/p:prod").value, "two");
  assert.equal(store.getParameter("/p:prod").selector, ":prod");
  assert.deepEqual(
    store.getParameterHistory("/p").map((p) => p.labels),
    [["blue"], ["prod"]],
  );
  assertServiceError(
    () => store.getParameter("/p:green"),
    "ParameterVersionNotFound",
    "Systems Manager could not find label green of /p. Verify the label and try again.",
  );
});

Deno.test("labelling refuses bad labels, missing versions and an eleventh label", () => {
  const { store } = newStore();
  store.putParameter("/p", "one");
  for (
    const label of ["1st", "aws-x", "SSMlabel", "has space", "a".repeat(101)]
  ) {
    assertServiceError(
      () => store.labelParameterVersion("/p", 1, [label]),
      "ValidationException",
      `Invalid labels: ${label}.`,
    );
  }
  assertServiceError(
    () => store.labelParameterVersion("/p", 2, ["prod"]),
    "ParameterVersionNotFound",
  );
  assertServiceError(
    () => store.labelParameterVersion("/missing", 1, ["prod"]),
    "ParameterNotFound",
  );
  const ten = Array.from({ length: 10 }, (_, i) => `l${i}`);
  store.labelParameterVersion("/p", 1, ten);
  store.labelParameterVersion("/p", 1, ["l0"]);
  assertServiceError(
    () => store.labelParameterVersion("/p", 1, ["l10"]),
    "ParameterVersionLabelLimitExceeded",
  );
});

Deno.test("malformed names and selectors are ValidationExceptions", () => {
  const { store } = newStore();
  store.putParameter("/p", "v");
  assertServiceError(
    () => store.getParameter("a/b"),
    "ValidationException",
    "Parameter name must be a fully qualified name.",
  );
  for (
    const reference of [
      "/a//b",
      "/a b",
      "/",
      "arn:aws:ssm:eu-west-1:111122223333:secret/p",
    ]
  ) {
    assertServiceError(
      () => store.getParameter(reference),
      "ValidationException",
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    );
  }
  for (const reference of ["/p:", "/p:0", "/p:1a", "/p:a:b"]) {
    assertServiceError(
      () => store.getParameter(reference),
      "ValidationException",
    );
  }
});

Deno.test("puts refuse reserved prefixes, unknown types and empty values", () => {
  const { store } = newStore();
  for (const name of ["/aws/x", "ssm-thing", "AWSname"]) {
    assertServiceError(
      () => store.putParameter(name, "v"),
      "ValidationException",
    );
  }
  assertServiceError(
    // @ts-expect-error: a type SSM does not know
    () => store.putParameter("/p", "v", { type: "Integer" }),
    "ValidationException",
  );
  assertServiceError(() => store.putParameter("/p", ""), "ValidationException");
  assertServiceError(() => store.getParameter("/p"), "ParameterNotFound");
});

Deno.test("reads hand out copies: changing one does not change the store", () => {
  const { store } = newStore();
  store.putParameter("/p", "v", { labels: ["prod"] });
  const found = store.getParameter("/p");
  (found.labels as string[]).push("changed");
  assert.deepEqual(store.getParameter("/p").labels, ["prod"]);
});
