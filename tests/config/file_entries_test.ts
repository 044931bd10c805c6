/**
 * The `[[file]]` entries: every field read, the defaults, and each message
 * for a bad entry.
 */

import assert from "node:assert/strict";
import { assertConfigError } from "./_assert_config_error.ts";
import { FILE_MESSAGES } from "./_file_messages.ts";
import { DEFAULT_CONFIG, parseConfig } from "../../src/config/config.ts";

const MESSAGES = {
  ...FILE_MESSAGES,
  noSecretId: (entry: number) => FILE_MESSAGES.missing(entry, "secret_id"),
  noPath: (entry: number) => FILE_MESSAGES.missing(entry, "path"),
} as const;

const ROLE = "arn:aws:iam::123456789012:role/reader";

/** A `[[file]]` section with a valid secret_id and path, and `extra` lines. */
function entry(
  extra = "",
  base = 'secret_id = "prod/db"\npath = "/run/s/db"',
): string {
  return `[[file]]\n${base}\n${extra}\n`;
}

Deno.test("[[file]]: secret_id and path alone give mode 0600 and no stage, role or key", () => {
  assert.deepEqual(parseConfig(entry()).files, [
    { secretId: "prod/db", path: "/run/s/db", mode: 0o600 },
  ]);
  assert.deepEqual(DEFAULT_CONFIG.files, []);
});

Deno.test("[[file]]: entries keep their order, every field read, and are frozen", () => {
  const config = parseConfig(
    `allow_role_arn = true\n${
      entry(`version_stage = "AWSPENDING"\nrole_arn = "${ROLE}"`)
    }${
      entry(
        'json_key = "a.b"\nmode = "440"',
        'path = "/srv/x/y.json"\nsecret_id = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"',
      )
    }`,
  );
  assert.deepEqual(config.files, [
    {
      secretId: "prod/db",
      versionStage: "AWSPENDING",
      roleArn: ROLE,
      path: "/run/s/db",
      mode: 0o600,
    },
    {
      secretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf",
      jsonKey: "a.b",
      path: "/srv/x/y.json",
      mode: 0o440,
    },
  ]);
  assert.ok(Object.isFrozen(config.files));
  assert.ok(config.files.every(Object.isFrozen));
});

Deno.test("[[file]]: an inline array of tables is the same as [[file]] sections", () => {
  assert.deepEqual(
    parseConfig('file = [{ secret_id = "prod/db", path = "/run/s/db" }]')
      .files,
    parseConfig(entry()).files,
  );
});

Deno.test("[[file]]: anything but an array of tables is refused", () => {
  for (
    const text of [
      "file = 3",
      'file = "/run/s/db"',
      "file = [3]",
      'file = [["a"]]',
      '[file]\nsecret_id = "prod/db"\npath = "/run/s/db"',
    ]
  ) {
    assertConfigError(text, MESSAGES.notTables);
  }
});

Deno.test("[[file]]: an unknown key names the entry and the valid keys", () => {
  assertConfigError(entry("secretId = 1"), MESSAGES.unknownKey(1, "secretId"));
  assertConfigError(
    `${entry()}${entry('"__proto__" = 1')}`.replace(
      'path = "/run/s/db"\n"__proto__"',
      'path = "/run/s/other"\n"__proto__"',
    ),
    MESSAGES.unknownKey(2, "__proto__"),
  );
  assertConfigError(
    entry('"new\\nline" = 1'),
    MESSAGES.unknownKey(1, "new\nline"),
  );
});

Deno.test("[[file]]: secret_id and path are required", () => {
  assertConfigError(entry("", 'path = "/run/s/db"'), MESSAGES.noSecretId(1));
  assertConfigError(entry("", 'secret_id = "prod/db"'), MESSAGES.noPath(1));
  assertConfigError("[[file]]\n", MESSAGES.noSecretId(1));
});

Deno.test("[[file]]: a bad secret_id is refused", () => {
  for (
    const value of [
      '""',
      '"a b"',
      '"a\\tb"',
      "1",
      "true",
      `"${"x".repeat(2049)}"`,
    ]
  ) {
    assertConfigError(
      entry("", `secret_id = ${value}\npath = "/run/s/db"`),
      MESSAGES.secretId(1),
    );
  }
});

Deno.test("[[file]]: a relative, dotted or odd path is refused", () => {
  for (
    const value of [
      '"db"',
      '"./db"',
      '"run/s/db"',
      '""',
      '"/"',
      '"/run/s/"',
      '"/run//db"',
      '"/run/./db"',
      '"/run/../etc/db"',
      '"/run/s/.."',
      '"/run/s\\u0000db"',
      "1",
      '["/run/s/db"]',
    ]
  ) {
    assertConfigError(
      entry("", `secret_id = "prod/db"\npath = ${value}`),
      MESSAGES.path(1),
    );
  }
  // Names with dots are names, not dot segments.
  assert.equal(
    parseConfig(entry("", 'secret_id = "a"\npath = "/run/.s/..db"')).files[0]
      .path,
    "/run/.s/..db",
  );
});

Deno.test("[[file]]: mode is an octal string the owner can read and others cannot write", () => {
  for (
    const [text, mode] of [["0600", 0o600], ["640", 0o640], ["0400", 0o400], [
      "0444",
      0o444,
    ], ["0750", 0o750]] as const
  ) {
    assert.equal(parseConfig(entry(`mode = "${text}"`)).files[0].mode, mode);
  }
  for (
    const value of [
      '"0200"',
      '"0040"',
      '"0602"',
      '"0666"',
      '"0777"',
      '"1600"',
      '"600 "',
      '"0o600"',
      '"0800"',
      '""',
      "384",
      "0o600",
    ]
  ) {
    assertConfigError(entry(`mode = ${value}`), MESSAGES.mode(1));
  }
});

Deno.test("[[file]]: a bad version_stage or json_key is refused", () => {
  for (const value of ['""', '"AWS CURRENT"', `"${"x".repeat(257)}"`, "1"]) {
    assertConfigError(
      entry(`version_stage = ${value}`),
      MESSAGES.versionStage(1),
    );
  }
  assert.equal(
    parseConfig(entry(`version_stage = "${"x".repeat(256)}"`)).files[0]
      .versionStage?.length,
    256,
  );
  for (const value of ['""', "1", '["a"]', "true"]) {
    assertConfigError(entry(`json_key = ${value}`), MESSAGES.jsonKey(1));
  }
  assert.equal(
    parseConfig(entry('json_key = " odd key "')).files[0].jsonKey,
    " odd key ",
  );
});

Deno.test("[[file]]: role_arn is checked as the roleArn parameter is, and needs allow_role_arn", () => {
  for (
    const value of [
      '"arn:aws:iam::123:role/x"',
      '"arn:aws:iam::123456789012:user/x"',
      '""',
      "1",
    ]
  ) {
    assertConfigError(
      `allow_role_arn = true\n${entry(`role_arn = ${value}`)}`,
      MESSAGES.roleArn(1),
    );
  }
  assertConfigError(
    entry(`role_arn = "${ROLE}"`),
    MESSAGES.roleArnNotAllowed(1),
  );
  assertConfigError(
    `allow_role_arn = false\n${entry()}${
      entry(`role_arn = "${ROLE}"`, 'secret_id = "b"\npath = "/run/s/b"')
    }`,
    MESSAGES.roleArnNotAllowed(2),
  );
});

Deno.test("[[file]]: two entries with the same path are refused, naming both", () => {
  assertConfigError(
    `${entry()}${entry("", 'secret_id = "other"\npath = "/run/s/x"')}${
      entry("", 'secret_id = "third"\npath = "/run/s/db"')
    }`,
    MESSAGES.samePath(1, 3, "/run/s/db"),
  );
  // The same secret in two files is fine.
  assert.equal(
    parseConfig(
      `${entry()}${entry("", 'secret_id = "prod/db"\npath = "/run/s/db2"')}`,
    ).files.length,
    2,
  );
});

Deno.test("[[file]]: the first bad entry is the one reported", () => {
  assertConfigError(
    `${entry()}${entry('mode = "0777"', 'secret_id = "b"\npath = "/run/s/b"')}${
      entry("", 'path = "/run/s/c"')
    }`,
    MESSAGES.mode(2),
  );
});
