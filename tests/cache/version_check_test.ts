import assert from "node:assert/strict";
import { isStillCurrent } from "../../src/cache/version_check.ts";
import type { VersionStages } from "../../src/cache/secret_value.ts";

const ROTATED: VersionStages = {
  v2: ["AWSCURRENT"],
  v1: ["AWSPREVIOUS", "LIVE"],
};

Deno.test("with no version or stage asked, the cached version must still hold AWSCURRENT", () => {
  assert.equal(isStillCurrent(ROTATED, { secretId: "db" }, "v2"), true);
  assert.equal(isStillCurrent(ROTATED, { secretId: "db" }, "v1"), false);
});

Deno.test("a requested stage must still be on the cached version", () => {
  const request = { secretId: "db", versionStage: "LIVE" };
  assert.equal(isStillCurrent(ROTATED, request, "v1"), true);
  assert.equal(isStillCurrent(ROTATED, request, "v2"), false);
});

Deno.test("a requested versionId only needs to exist, whatever its stages", () => {
  assert.equal(
    isStillCurrent(ROTATED, { secretId: "db", versionId: "v1" }, "v1"),
    true,
  );
  assert.equal(
    isStillCurrent(ROTATED, { secretId: "db", versionId: "v0" }, "v0"),
    false,
  );
});

Deno.test("a requested versionId with a stage must exist and hold that stage", () => {
  const live = { secretId: "db", versionId: "v1", versionStage: "LIVE" };
  const current = {
    secretId: "db",
    versionId: "v1",
    versionStage: "AWSCURRENT",
  };
  assert.equal(isStillCurrent(ROTATED, live, "v1"), true);
  assert.equal(isStillCurrent(ROTATED, current, "v1"), false);
});

Deno.test("a version id naming an Object.prototype member is not found there", () => {
  const request = { secretId: "db", versionId: "constructor" };
  assert.equal(isStillCurrent({}, request, "constructor"), false);
  assert.equal(isStillCurrent({}, { secretId: "db" }, "toString"), false);
});

Deno.test("a malformed version map is never current", () => {
  const broken = [null, undefined, "v1", { v1: "AWSCURRENT" }];
  for (const stages of broken) {
    assert.equal(
      isStillCurrent(
        stages as unknown as VersionStages,
        { secretId: "db" },
        "v1",
      ),
      false,
    );
  }
});
