import assert from "node:assert/strict";
import {
  createCredentialProcessProvider,
  CredentialProcessError,
  parseCredentialProcessOutput,
  splitCommandLine,
} from "../../src/aws/credential_process.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
const SESSION = "IQoJb3JpZ2luX2VjEXAMPLESESSION";

function output(fields: Record<string, unknown>): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: "AKIDEXAMPLE",
    SecretAccessKey: SECRET,
    ...fields,
  });
}

/** Asserts `run` throws a CredentialProcessError whose message matches and holds no secret. */
function assertRefused(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error) => {
    assert.ok(error instanceof CredentialProcessError);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes(SECRET), error.message);
    assert.ok(!error.message.includes(SESSION), error.message);
    return true;
  });
}

// splitCommandLine

Deno.test("splitCommandLine splits at runs of white space", () => {
  assert.deepEqual(splitCommandLine("  /opt/bin/creds \t--profile  app \n"), [
    "/opt/bin/creds",
    "--profile",
    "app",
  ]);
  assert.deepEqual(splitCommandLine(""), []);
  assert.deepEqual(splitCommandLine("   "), []);
});

Deno.test("splitCommandLine keeps quoted white space and joins adjacent quoted parts", () => {
  assert.deepEqual(splitCommandLine(`creds --name "my app" 'other app'`), [
    "creds",
    "--name",
    "my app",
    "other app",
  ]);
  assert.deepEqual(splitCommandLine(`--opt="a b"c'd e'`), ["--opt=a bcd e"]);
});

Deno.test("splitCommandLine keeps an empty quoted word", () => {
  assert.deepEqual(splitCommandLine(`creds "" ''`), ["creds", "", ""]);
});

Deno.test("splitCommandLine takes single quotes literally, backslashes and double quotes included", () => {
  assert.deepEqual(splitCommandLine(`'a\\b "c" $HOME'`), [`a\\b "c" $HOME`]);
});

Deno.test("splitCommandLine: a backslash escapes any character outside quotes", () => {
  assert.deepEqual(splitCommandLine(`my\\ creds a\\'b \\"c\\"`), [
    "my creds",
    "a'b",
    `"c"`,
  ]);
});

Deno.test('splitCommandLine: inside double quotes a backslash escapes only " \\ $ and `', () => {
  assert.deepEqual(splitCommandLine(`"a\\"b" "c\\\\d" "e\\$f" "g\\nh"`), [
    `a"b`,
    "c\\d",
    "e$f",
    "g\\nh",
  ]);
});

Deno.test("splitCommandLine expands nothing", () => {
  assert.deepEqual(splitCommandLine("creds $HOME ~ *.json `id`"), [
    "creds",
    "$HOME",
    "~",
    "*.json",
    "`id`",
  ]);
});

Deno.test("splitCommandLine refuses an unterminated quote", () => {
  for (const line of [`creds "app`, `creds 'app`, `creds "a\\"`]) {
    assert.throws(
      () => splitCommandLine(line),
      (error) =>
        error instanceof CredentialProcessError &&
        error.message === "unterminated quote in credential_process",
    );
  }
});

// parseCredentialProcessOutput

Deno.test("parseCredentialProcessOutput reads Version 1 keys", () => {
  assert.deepEqual(parseCredentialProcessOutput(output({}), "app", NOW), {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: SECRET,
  });
});

Deno.test("parseCredentialProcessOutput reads SessionToken and Expiration", () => {
  assert.deepEqual(
    parseCredentialProcessOutput(
      output({ SessionToken: SESSION, Expiration: "2026-01-01T01:00:00Z" }),
      "app",
      NOW,
    ),
    {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: SECRET,
      sessionToken: SESSION,
      expiration: new Date("2026-01-01T01:00:00Z"),
    },
  );
});

Deno.test("parseCredentialProcessOutput leaves out an empty SessionToken", () => {
  const credentials = parseCredentialProcessOutput(
    output({ SessionToken: "" }),
    "app",
    NOW,
  );
  assert.ok(!("sessionToken" in credentials));
});

Deno.test("parseCredentialProcessOutput requires Version 1", () => {
  assertRefused(
    () =>
      parseCredentialProcessOutput(
        output({ Version: 2, SessionToken: SESSION }),
        "app",
        NOW,
      ),
    /^credential_process of profile app printed Version 2; only Version 1 is supported$/,
  );
  assertRefused(
    () => parseCredentialProcessOutput(output({ Version: "1" }), "app", NOW),
    /printed Version "1"/,
  );
  assertRefused(
    () =>
      parseCredentialProcessOutput(
        JSON.stringify({ AccessKeyId: "A", SecretAccessKey: SECRET }),
        "app",
        NOW,
      ),
    /printed Version undefined/,
  );
});

Deno.test("parseCredentialProcessOutput requires AccessKeyId and SecretAccessKey", () => {
  for (
    const fields of [
      { AccessKeyId: undefined },
      { SecretAccessKey: undefined, SessionToken: SESSION },
      { AccessKeyId: "" },
      { SecretAccessKey: 42 },
    ]
  ) {
    assertRefused(
      () => parseCredentialProcessOutput(output(fields), "app", NOW),
      /^credential_process of profile app printed no AccessKeyId and SecretAccessKey$/,
    );
  }
});

Deno.test("parseCredentialProcessOutput refuses expired credentials and a bad Expiration", () => {
  assertRefused(
    () =>
      parseCredentialProcessOutput(
        output({ SessionToken: SESSION, Expiration: "2025-12-31T23:59:59Z" }),
        "app",
        NOW,
      ),
    /^credential_process of profile app printed expired credentials$/,
  );
  // Expiring this very moment is expired.
  assertRefused(
    () =>
      parseCredentialProcessOutput(
        output({ Expiration: new Date(NOW).toISOString() }),
        "app",
        NOW,
      ),
    /expired credentials/,
  );
  assertRefused(
    () =>
      parseCredentialProcessOutput(output({ Expiration: "soon" }), "app", NOW),
    /printed an Expiration that is not a date/,
  );
});

Deno.test("parseCredentialProcessOutput refuses output that is not a JSON object, without echoing it", () => {
  for (
    const text of [`oops ${SECRET}`, "", `{"SecretAccessKey": "${SECRET}"`]
  ) {
    assertRefused(
      () => parseCredentialProcessOutput(text, "app", NOW),
      /^credential_process of profile app did not print JSON$/,
    );
  }
  for (const text of ["null", "[1]", "1", `"${SECRET}"`]) {
    assertRefused(
      () => parseCredentialProcessOutput(text, "app", NOW),
      /only Version 1 is supported/,
    );
  }
});

// createCredentialProcessProvider

const encoder = new TextEncoder();

Deno.test("the provider runs the program with its arguments each time it is asked", async () => {
  const calls: [string, readonly string[]][] = [];
  const provider = createCredentialProcessProvider([
    "/opt/bin/creds",
    "--profile",
    "app",
  ], {
    profile: "app",
    now: () => NOW,
    run: (program, args) => {
      calls.push([program, args]);
      return Promise.resolve({ code: 0, stdout: encoder.encode(output({})) });
    },
  });
  assert.deepEqual(await provider(), {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: SECRET,
  });
  await provider();
  assert.deepEqual(calls, [
    ["/opt/bin/creds", ["--profile", "app"]],
    ["/opt/bin/creds", ["--profile", "app"]],
  ]);
});

Deno.test("the provider refuses a non-zero exit without reading the output", async () => {
  const provider = createCredentialProcessProvider(["creds"], {
    profile: "app",
    run: () => Promise.resolve({ code: 3, stdout: encoder.encode(output({})) }),
  });
  await assert.rejects(provider(), (error) => {
    assert.ok(error instanceof CredentialProcessError);
    assert.equal(
      error.message,
      "credential_process of profile app exited with code 3",
    );
    return true;
  });
});

Deno.test("the provider says when the program could not be run, with the first line of the reason", async () => {
  const cause = new Deno.errors.NotFound(
    "No such file or directory\nmore detail",
  );
  const provider = createCredentialProcessProvider(["creds"], {
    profile: "app",
    run: () => Promise.reject(cause),
  });
  await assert.rejects(provider(), (error) => {
    assert.ok(error instanceof CredentialProcessError);
    assert.equal(
      error.message,
      "credential_process of profile app could not be run: No such file or directory",
    );
    assert.equal(error.cause, cause);
    return true;
  });
});

Deno.test("the provider lets a sandbox refusal through as is", async () => {
  const refusal = new Deno.errors.NotCapable('Requires run access to "creds"');
  const provider = createCredentialProcessProvider(["creds"], {
    profile: "app",
    run: () => Promise.reject(refusal),
  });
  await assert.rejects(provider(), (error) => error === refusal);
});

Deno.test("the provider checks expiry against its clock", async () => {
  const provider = createCredentialProcessProvider(["creds"], {
    profile: "app",
    now: () => Date.parse("2026-01-01T02:00:00Z"),
    run: () =>
      Promise.resolve({
        code: 0,
        stdout: encoder.encode(output({ Expiration: "2026-01-01T01:00:00Z" })),
      }),
  });
  await assert.rejects(provider(), /printed expired credentials/);
});
