import assert from "node:assert/strict";
import {
  parametersCacheSource,
  type ParametersClient,
  type ParameterValue,
  toParameterBody,
} from "../../src/aws/parameters_client.ts";
import type { ParameterLookup } from "../../src/http/request.ts";

const VALUE: ParameterValue = {
  name: "/app/db",
  type: "SecureString",
  value: "pw",
  version: 4,
  selector: ":4",
  lastModifiedMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  arn: "arn:aws:ssm:us-east-1:123456789012:parameter/app/db",
  dataType: "text",
};

Deno.test("the body is the Lambda extension's: keys in order, absent ones null, ISO date", () => {
  assert.equal(
    toParameterBody(VALUE),
    '{"Parameter":{"ARN":"arn:aws:ssm:us-east-1:123456789012:parameter/app/db","DataType":"text","LastModifiedDate":"2026-01-02T03:04:05.678Z","Name":"/app/db","Selector":":4","SourceResult":null,"Type":"SecureString","Value":"pw","Version":4},"ResultMetadata":{}}',
  );
  const bare = JSON.parse(toParameterBody({
    ...VALUE,
    selector: undefined,
    lastModifiedMs: undefined,
  }));
  assert.equal(bare.Parameter.Selector, null);
  assert.equal(bare.Parameter.LastModifiedDate, null);
});

Deno.test("the cache key holds everything that changes the answer; fetch drops refreshNow", async () => {
  const asked: unknown[] = [];
  const client: ParametersClient = {
    getParameter: (request) => {
      asked.push(request);
      return Promise.resolve(VALUE);
    },
    destroy() {},
  };
  const source = parametersCacheSource(client);
  const base: ParameterLookup = {
    name: "/app/db",
    withDecryption: false,
    refreshNow: false,
  };
  const keys = new Set(
    [
      base,
      { ...base, withDecryption: true },
      { ...base, version: 4 },
      { ...base, label: "blue" },
      { ...base, roleArn: "arn:aws:iam::111111111111:role/r" },
    ].map((lookup) => source.keyOf(lookup)),
  );
  assert.equal(keys.size, 5);
  assert.equal(source.keyOf({ ...base, refreshNow: true }), source.keyOf(base));
  assert.equal(source.isCurrent, undefined, "renewals fetch again");
  const fetched = await source.fetch({ ...base, refreshNow: true });
  assert.deepEqual(asked, [{ name: "/app/db", withDecryption: false }]);
  assert.equal(fetched.versionId, "4");
  assert.equal(fetched.body, toParameterBody(VALUE));
});
