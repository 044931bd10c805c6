import assert from "node:assert/strict";
import { parseRoleArn, RoleSessions } from "../support/role_sessions.ts";

Deno.test("parseRoleArn reads the account and the name, path or not", () => {
  assert.deepEqual(parseRoleArn("arn:aws:iam::123456789012:role/reader"), {
    accountId: "123456789012",
    roleName: "reader",
  });
  assert.deepEqual(
    parseRoleArn("arn:aws:iam::123456789012:role/a/b/reader"),
    { accountId: "123456789012", roleName: "reader" },
  );
  for (
    const arn of [
      "arn:aws:iam::123456789012:role/",
      "arn:aws:iam::1234567890123:role/reader",
      "arn:aws:iam::123456789012:user/reader",
      "arn:aws:sts::123456789012:role/reader",
      `arn:aws:iam::123456789012:role/${"r".repeat(65)}`,
    ]
  ) {
    assert.equal(parseRoleArn(arn), undefined, arn);
  }
});

Deno.test("a session expires on the whole second its duration ends", () => {
  let nowMs = 1_700_000_000_700;
  const sessions = new RoleSessions({ now: () => nowMs });
  const session = sessions.assume("arn:aws:iam::123456789012:role/a/reader", {
    sessionName: "s1",
    durationSeconds: 900,
  });
  assert.equal(session.expiresAtMs, 1_700_000_900_000);
  assert.equal(
    session.assumedRoleArn,
    "arn:aws:sts::123456789012:assumed-role/reader/s1",
  );
  assert.equal(sessions.find(session.credentials.accessKeyId), session);
  assert.deepEqual(sessions.credentials(), [session.credentials]);
  nowMs = 1_700_000_899_999;
  assert.equal(sessions.isExpired(session), false);
  nowMs = 1_700_000_900_000;
  assert.equal(sessions.isExpired(session), true);
  assert.equal(sessions.find("ASIANOTISSUED0000000"), undefined);
  assert.equal(sessions.find(undefined), undefined);
});

Deno.test("denying one role leaves the others assumable", () => {
  const sessions = new RoleSessions();
  sessions.deny("arn:aws:iam::123456789012:role/a");
  assert.equal(sessions.isDenied("arn:aws:iam::123456789012:role/a"), true);
  assert.equal(sessions.isDenied("arn:aws:iam::123456789012:role/b"), false);
  assert.throws(
    () => sessions.assume("nope", { sessionName: "s1", durationSeconds: 900 }),
    RangeError,
  );
});
