import assert from "node:assert/strict";
import { parseRoute } from "../../src/http/request.ts";

function route(path: string, prefix = "/v1/") {
  return parseRoute(new URL(`http://127.0.0.1:2773${path}`), prefix);
}

function lookupOf(path: string, prefix = "/v1/") {
  const parsed = route(path, prefix);
  assert.ok(parsed.ok, `expected ${path} to parse`);
  assert.equal(parsed.route.kind, "secret");
  return parsed.route.kind === "secret" ? parsed.route.lookup : undefined;
}

function rejectionOf(path: string, prefix = "/v1/") {
  const parsed = route(path, prefix);
  assert.ok(!parsed.ok, `expected ${path} to be rejected`);
  return parsed.ok ? undefined : parsed.rejection;
}

Deno.test("ping routes to the health check, with or without a query", () => {
  const ping = { ok: true, route: { kind: "ping", ready: false } };
  assert.deepEqual(route("/ping"), ping);
  assert.deepEqual(route("/ping?x=1"), ping);
  assert.deepEqual(route("/ping?ready=false"), ping);
  assert.deepEqual(route("/ping?ready=true&ready=0"), ping);
});

Deno.test("ping?ready=true asks for readiness; other values are refused", () => {
  const ready = { ok: true, route: { kind: "ping", ready: true } };
  assert.deepEqual(route("/ping?ready=true"), ready);
  assert.deepEqual(route("/ping?ready=TRUE"), ready);
  assert.deepEqual(route("/ping?ready=1&x=2"), ready);
  for (const value of ["", "yes", "2", "true "]) {
    assert.deepEqual(route(`/ping?ready=${encodeURIComponent(value)}`), {
      ok: false,
      rejection: {
        kind: "bad_request",
        status: 400,
        body: "invalid ready value",
      },
    });
  }
});

Deno.test("query style reads secretId, versionId, versionStage, refreshNow", () => {
  assert.deepEqual(
    lookupOf(
      "/secretsmanager/get?secretId=db&versionId=v1&versionStage=AWSPREVIOUS&refreshNow=true",
    ),
    {
      secretId: "db",
      versionId: "v1",
      versionStage: "AWSPREVIOUS",
      refreshNow: true,
    },
  );
});

Deno.test("query style without secretId is a 400 naming the parameter", () => {
  assert.deepEqual(rejectionOf("/secretsmanager/get"), {
    kind: "bad_request",
    status: 400,
    body: "missing parameter secretId",
  });
  assert.equal(
    rejectionOf("/secretsmanager/get?secretId=")?.body,
    "missing parameter secretId",
  );
});

Deno.test("an unknown parameter is a 400 naming it", () => {
  assert.equal(
    rejectionOf("/secretsmanager/get?secretId=a&color=red")?.body,
    "unknown parameter: color",
  );
  assert.equal(
    rejectionOf("/v1/a?secretId=b")?.body,
    "unknown parameter: secretId",
  );
  assert.equal(
    rejectionOf("/secretsmanager/get?SecretId=a")?.body,
    "unknown parameter: SecretId",
  );
});

Deno.test("refreshNow accepts true, false, 1, 0 in any case and nothing else", () => {
  for (
    const [value, expected] of [
      ["true", true],
      ["TRUE", true],
      ["True", true],
      ["1", true],
      ["false", false],
      ["FaLsE", false],
      ["0", false],
    ] as const
  ) {
    assert.equal(
      lookupOf(`/v1/a?refreshNow=${value}`)?.refreshNow,
      expected,
      value,
    );
  }
  for (const value of ["yes", "", "2", "truee", " true"]) {
    assert.equal(
      rejectionOf(`/v1/a?refreshNow=${encodeURIComponent(value)}`)?.body,
      "invalid refreshNow value",
      value,
    );
  }
  assert.equal(lookupOf("/v1/a")?.refreshNow, false);
});

Deno.test("a repeated parameter: the last value wins", () => {
  assert.deepEqual(
    lookupOf(
      "/secretsmanager/get?secretId=a&secretId=b&refreshNow=1&refreshNow=0",
    ),
    { secretId: "b", refreshNow: false },
  );
});

Deno.test("empty versionId and versionStage mean not given", () => {
  assert.deepEqual(lookupOf("/v1/a?versionId=&versionStage="), {
    secretId: "a",
    refreshNow: false,
  });
});

Deno.test("path style takes the rest of the path, percent-decoded", () => {
  assert.equal(lookupOf("/v1/prod/db/password")?.secretId, "prod/db/password");
  assert.equal(
    lookupOf("/v1/prod%2Fdb%2Fpassword")?.secretId,
    "prod/db/password",
  );
  assert.equal(lookupOf("/v1/a%20b%2Bc")?.secretId, "a b+c");
  assert.equal(lookupOf("/v1/caf%C3%A9")?.secretId, "café");
});

Deno.test("path style takes full ARNs with colons and slashes", () => {
  const arn =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";
  assert.equal(lookupOf(`/v1/${arn}`)?.secretId, arn);
  assert.equal(lookupOf(`/v1/${encodeURIComponent(arn)}`)?.secretId, arn);
  assert.equal(
    lookupOf(`/secretsmanager/get?secretId=${encodeURIComponent(arn)}`)
      ?.secretId,
    arn,
  );
});

Deno.test("path style with an empty id is a 400", () => {
  assert.equal(rejectionOf("/v1/")?.body, "missing secret ID");
  assert.equal(rejectionOf("/v1/?versionStage=x")?.body, "missing secret ID");
});

Deno.test("path style with broken percent-encoding is a 400, not a throw", () => {
  assert.equal(rejectionOf("/v1/%E0%A4%A")?.status, 400);
  assert.equal(rejectionOf("/v1/%FF")?.status, 400);
  assert.equal(rejectionOf("/v1/%C0%AE")?.status, 400);
});

Deno.test("a configured prefix replaces /v1/", () => {
  assert.equal(lookupOf("/secrets/x", "/secrets/")?.secretId, "x");
  assert.equal(rejectionOf("/v1/x", "/secrets/")?.status, 404);
});

Deno.test("anything else is 404 Not found", () => {
  for (const path of ["/", "/v2/a", "/secretsmanager/get/x", "/pingx", "/v1"]) {
    assert.deepEqual(rejectionOf(path), {
      kind: "not_found",
      status: 404,
      body: "Not found",
    }, path);
  }
});

Deno.test("a secret id of up to 2048 characters is looked up; a longer one is a 400, in both styles", () => {
  const longest = "a".repeat(2048);
  const tooLong = `${longest}b`;
  const refused = {
    kind: "bad_request",
    status: 400,
    body: "secret ID longer than 2048 characters",
  };
  assert.equal(lookupOf(`/v1/${longest}`)?.secretId, longest);
  assert.equal(
    lookupOf(`/secretsmanager/get?secretId=${longest}`)?.secretId,
    longest,
  );
  assert.deepEqual(rejectionOf(`/v1/${tooLong}`), refused);
  assert.deepEqual(
    rejectionOf(`/secretsmanager/get?secretId=${tooLong}`),
    refused,
  );
  // Counted after percent-decoding: 2048 escapes are 2048 characters.
  assert.equal(lookupOf(`/v1/${"%41".repeat(2048)}`)?.secretId.length, 2048);
  assert.deepEqual(rejectionOf(`/v1/${"%41".repeat(2049)}`), refused);
});

Deno.test("a parameter name over 2048 characters is a 400", () => {
  const parameter = (name: string) =>
    parseRoute(
      new URL(
        `http://127.0.0.1:2773/systemsmanager/parameters/get?name=${name}`,
      ),
      "/v1/",
      { parameterStore: true },
    );
  const accepted = parameter("p".repeat(2048));
  assert.ok(accepted.ok && accepted.route.kind === "parameter");
  assert.deepEqual(parameter("p".repeat(2049)), {
    ok: false,
    rejection: {
      kind: "bad_request",
      status: 400,
      body: "parameter name longer than 2048 characters",
    },
  });
});

Deno.test("jsonKey (ours) rides on the route beside the lookup, in both styles, never in the cache's lookup", () => {
  for (
    const path of [
      "/secretsmanager/get?secretId=db&jsonKey=password",
      "/v1/db?jsonKey=password",
      "/v1/db?jsonKey=old&jsonKey=password",
    ]
  ) {
    assert.deepEqual(route(path), {
      ok: true,
      route: {
        kind: "secret",
        lookup: { secretId: "db", refreshNow: false },
        jsonKey: "password",
      },
    });
  }
  // Taken literally: a dot is part of the key; empty means not given.
  const dotted = route("/v1/db?jsonKey=db.host%20name");
  assert.ok(dotted.ok && dotted.route.kind === "secret");
  assert.equal(dotted.route.jsonKey, "db.host name");
  assert.deepEqual(route("/v1/db?jsonKey="), route("/v1/db"));
});

Deno.test("jsonKey is not a Parameter Store parameter", () => {
  assert.deepEqual(
    parseRoute(
      new URL(
        "http://127.0.0.1:2773/systemsmanager/parameters/get?name=a&jsonKey=b",
      ),
      "/v1/",
      { parameterStore: true },
    ),
    {
      ok: false,
      rejection: {
        kind: "bad_request",
        status: 400,
        body: "unknown parameter: jsonKey",
      },
    },
  );
});
