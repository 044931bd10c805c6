import assert from "node:assert/strict";
import { SecretsStore } from "../support/secrets_store.ts";
import { ServiceError } from "../support/service_error.ts";

function newStore(): { store: SecretsStore; clock: { ms: number } } {
  const clock = { ms: 1_569_534_789_046 };
  let next = 0;
  const store = new SecretsStore({
    region: "eu-west-1",
    accountId: "111122223333",
    now: () => clock.ms,
    arnSuffix: () => "AbC123",
    newVersionId: () => `version-${String(++next).padStart(24, "0")}`,
  });
  return { store, clock };
}

function assertServiceError(fn: () => unknown, code: string, message?: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ServiceError, String(error));
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

Deno.test("createSecret builds an ARN in AWS's format with a six-character suffix", () => {
  const { store } = newStore();
  const created = store.createSecret("app/db", { value: "pw" });
  assert.equal(
    created.arn,
    "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/db-AbC123",
  );
  const random = new SecretsStore().createSecret("x", { value: "v" });
  assert.match(
    random.arn,
    /^arn:aws:secretsmanager:us-east-1:123456789012:secret:x-[A-Za-z0-9]{6}$/,
  );
});

Deno.test("a secret is found by name, full ARN and partial ARN", () => {
  const { store } = newStore();
  const { arn } = store.createSecret("app/db", { value: "pw" });
  for (const id of ["app/db", arn, arn.slice(0, -7)]) {
    assert.equal(store.getSecretValue(id).secretString, "pw");
  }
  assertServiceError(
    () => store.getSecretValue("app/d"),
    "ResourceNotFoundException",
    /^Secrets Manager can't find the specified secret\.$/,
  );
});

Deno.test("putSecretValue makes the new version AWSCURRENT and the old one AWSPREVIOUS", () => {
  const { store, clock } = newStore();
  const first = store.createSecret("s", { value: "one" }).versionId!;
  clock.ms += 1500;
  const second = store.putSecretValue("s", "two").versionId;
  const third = store.putSecretValue("s", "three").versionId;
  assert.deepEqual(store.describeSecret("s").versionIdsToStages, {
    [second]: ["AWSPREVIOUS"],
    [third]: ["AWSCURRENT"],
  });
  assert.equal(store.getSecretValue("s").secretString, "three");
  assert.equal(
    store.getSecretValue("s", { versionStage: "AWSPREVIOUS" }).secretString,
    "two",
  );
  // The unlabelled first version is deprecated but still readable by id.
  assert.deepEqual(
    store.getSecretValue("s", { versionId: first }).versionStages,
    [],
  );
  assert.equal(
    store.getSecretValue("s", { versionId: second }).createdDateMs,
    clock.ms,
  );
});

Deno.test("putSecretValue with explicit stages leaves AWSCURRENT where it is", () => {
  const { store } = newStore();
  const current = store.createSecret("s", { value: "one" }).versionId!;
  const pending = store.putSecretValue("s", "two", {
    versionStages: ["AWSPENDING"],
  }).versionId;
  assert.deepEqual(store.describeSecret("s").versionIdsToStages, {
    [current]: ["AWSCURRENT"],
    [pending]: ["AWSPENDING"],
  });
  const custom = store.putSecretValue("s", "three", {
    versionStages: ["AWSPENDING", "blue"],
  }).versionId;
  assert.deepEqual(store.describeSecret("s").versionIdsToStages, {
    [current]: ["AWSCURRENT"],
    [custom]: ["AWSPENDING", "blue"],
  });
});

Deno.test("putSecretValue with an existing version id is idempotent only for the same value", () => {
  const { store } = newStore();
  const id = store.createSecret("s", { value: "one" }).versionId!;
  assert.deepEqual(
    store.putSecretValue("s", "one", { versionId: id }).versionStages,
    [
      "AWSCURRENT",
    ],
  );
  assertServiceError(
    () => store.putSecretValue("s", "other", { versionId: id }),
    "ResourceExistsException",
  );
});

Deno.test("moving AWSCURRENT needs RemoveFromVersionId and moves AWSPREVIOUS along", () => {
  const { store } = newStore();
  const v1 = store.createSecret("s", { value: "one" }).versionId!;
  const v2 = store.putSecretValue("s", "two").versionId;
  assertServiceError(
    () =>
      store.updateSecretVersionStage("s", "AWSCURRENT", {
        moveToVersionId: v1,
      }),
    "InvalidParameterException",
    /RemoveFromVersionId can't be empty.*attached to version version-0+2/,
  );
  assertServiceError(
    () =>
      store.updateSecretVersionStage("s", "AWSCURRENT", {
        moveToVersionId: v1,
        removeFromVersionId: v1,
      }),
    "InvalidParameterException",
    /not attached to version/,
  );
  store.updateSecretVersionStage("s", "AWSCURRENT", {
    moveToVersionId: v1,
    removeFromVersionId: v2,
  });
  assert.equal(store.getSecretValue("s").secretString, "one");
  assert.deepEqual(store.describeSecret("s").versionIdsToStages, {
    [v1]: ["AWSCURRENT"],
    [v2]: ["AWSPREVIOUS"],
  });
});

Deno.test("a custom label can be attached, and removed, and AWSCURRENT cannot be removed alone", () => {
  const { store } = newStore();
  const v1 = store.createSecret("s", { value: "one" }).versionId!;
  store.updateSecretVersionStage("s", "blue", { moveToVersionId: v1 });
  assert.deepEqual(
    store.getSecretValue("s", { versionStage: "blue" }).versionStages,
    [
      "AWSCURRENT",
      "blue",
    ],
  );
  store.updateSecretVersionStage("s", "blue", { removeFromVersionId: v1 });
  assertServiceError(
    () => store.getSecretValue("s", { versionStage: "blue" }),
    "ResourceNotFoundException",
    /for staging label: blue$/,
  );
  assertServiceError(
    () =>
      store.updateSecretVersionStage("s", "AWSCURRENT", {
        removeFromVersionId: v1,
      }),
    "InvalidParameterException",
  );
  assertServiceError(
    () =>
      store.updateSecretVersionStage("s", "blue", {
        moveToVersionId: "nope".repeat(8),
      }),
    "InvalidParameterException",
    /doesn't exist/,
  );
});

Deno.test("VersionId and VersionStage must agree, and unknown versions are not found", () => {
  const { store } = newStore();
  const v1 = store.createSecret("s", { value: "one" }).versionId!;
  assert.equal(
    store.getSecretValue("s", { versionId: v1, versionStage: "AWSCURRENT" })
      .secretString,
    "one",
  );
  assertServiceError(
    () =>
      store.getSecretValue("s", { versionId: v1, versionStage: "AWSPREVIOUS" }),
    "InvalidRequestException",
    /not associated to the provided VersionId/,
  );
  assertServiceError(
    () => store.getSecretValue("s", { versionId: "x".repeat(32) }),
    "ResourceNotFoundException",
    /for VersionId: x{32}$/,
  );
});

Deno.test("a secret created without a value has no AWSCURRENT version", () => {
  const { store } = newStore();
  assert.equal(store.createSecret("empty").versionId, undefined);
  assertServiceError(
    () => store.getSecretValue("empty"),
    "ResourceNotFoundException",
    /for staging label: AWSCURRENT$/,
  );
  assert.deepEqual(store.describeSecret("empty").versionIdsToStages, {});
});

Deno.test("binary values come back as copies of the bytes", () => {
  const { store } = newStore();
  const bytes = new Uint8Array([0, 1, 254, 255]);
  store.createSecret("bin", { value: bytes });
  const read = store.getSecretValue("bin");
  assert.deepEqual(read.secretBinary, bytes);
  assert.equal(read.secretString, undefined);
  read.secretBinary![0] = 9;
  assert.equal(store.getSecretValue("bin").secretBinary![0], 0);
});

Deno.test("duplicate and invalid names are refused", () => {
  const { store } = newStore();
  store.createSecret("s", { value: "one" });
  assertServiceError(
    () => store.createSecret("s", { value: "two" }),
    "ResourceExistsException",
    /the secret s already exists/,
  );
  assertServiceError(
    () => store.createSecret("bad name"),
    "InvalidParameterException",
  );
  assertServiceError(() => store.createSecret(""), "InvalidParameterException");
});

Deno.test("a scheduled deletion hides the value, blocks the name, and can be restored", () => {
  const { store, clock } = newStore();
  store.createSecret("s", { value: "one" });
  const deleted = store.deleteSecret("s", { recoveryWindowDays: 7 });
  assert.equal(deleted.deletionDateMs, clock.ms + 7 * 86_400_000);
  assertServiceError(
    () => store.getSecretValue("s"),
    "InvalidRequestException",
    /marked for deletion/,
  );
  assertServiceError(
    () => store.createSecret("s"),
    "InvalidRequestException",
    /scheduled for deletion/,
  );
  assert.equal(store.describeSecret("s").deletedDateMs, clock.ms);
  assert.deepEqual(store.listSecrets().map((s) => s.name), []);
  assert.deepEqual(
    store.listSecrets({ includePlannedDeletion: true }).map((s) => s.name),
    ["s"],
  );
  store.restoreSecret("s");
  assert.equal(store.getSecretValue("s").secretString, "one");
});

Deno.test("a forced deletion removes the secret at once and frees its name", () => {
  const { store } = newStore();
  store.createSecret("s", { value: "one" });
  store.deleteSecret("s", { force: true });
  assertServiceError(
    () => store.describeSecret("s"),
    "ResourceNotFoundException",
  );
  assert.ok(store.createSecret("s", { value: "again" }).arn);
});
