import assert from "node:assert/strict";
import {
  createTokenCheck,
  resolveToken,
  TokenError,
} from "../../src/http/token.ts";

const DEFAULT_NAMES = [
  "AWS_TOKEN",
  "AWS_SESSION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

function envOf(
  values: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => Object.hasOwn(values, name) ? values[name] : undefined;
}

function filesOf(files: Record<string, string>): (path: string) => string {
  return (path) => {
    if (!Object.hasOwn(files, path)) {
      throw new Deno.errors.NotFound(`No such file or directory: ${path}`);
    }
    return files[path];
  };
}

function tokenError(
  names: readonly string[],
  options: Parameters<typeof resolveToken>[1],
): string {
  try {
    resolveToken(names, options);
  } catch (error) {
    assert.ok(error instanceof TokenError);
    return error.message;
  }
  assert.fail("resolveToken did not throw");
}

Deno.test("the first variable that is set gives the token", () => {
  const getEnv = envOf({
    AWS_SESSION_TOKEN: "second",
    AWS_CONTAINER_AUTHORIZATION_TOKEN: "third",
  });
  assert.equal(resolveToken(DEFAULT_NAMES, { getEnv }), "second");
  assert.equal(
    resolveToken(DEFAULT_NAMES, {
      getEnv: envOf({ AWS_TOKEN: "first", AWS_SESSION_TOKEN: "second" }),
    }),
    "first",
  );
});

Deno.test("a set but empty variable is an error, not a fall-through", () => {
  assert.equal(
    tokenError(DEFAULT_NAMES, {
      getEnv: envOf({ AWS_TOKEN: "", AWS_SESSION_TOKEN: "second" }),
    }),
    "The SSRF token variable AWS_TOKEN is set but empty",
  );
  assert.equal(
    tokenError(["AWS_TOKEN"], { getEnv: envOf({ AWS_TOKEN: "  \n" }) }),
    "The SSRF token variable AWS_TOKEN is set but empty",
  );
});

Deno.test("a token from a variable is trimmed like one from a file", () => {
  assert.equal(
    resolveToken(["AWS_TOKEN"], { getEnv: envOf({ AWS_TOKEN: " abc\n" }) }),
    "abc",
  );
});

Deno.test("no variable set names them all, as the original does", () => {
  assert.equal(
    tokenError(DEFAULT_NAMES, { getEnv: envOf({ OTHER: "x" }) }),
    "Could not read SSRF token variable(s) [AWS_TOKEN, AWS_SESSION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN]: environment variable not found",
  );
});

Deno.test("a file:// value reads the token from the file, trimmed", () => {
  const options = {
    getEnv: envOf({ AWS_TOKEN: "file:///var/run/awssmatoken" }),
    readTextFile: filesOf({ "/var/run/awssmatoken": "  s3cr3t-token\n\n" }),
  };
  assert.equal(resolveToken(DEFAULT_NAMES, options), "s3cr3t-token");
});

Deno.test("a file URL is percent-decoded into its path", () => {
  const options = {
    getEnv: envOf({ AWS_TOKEN: "file:///run/my%20dir/token%23" }),
    readTextFile: filesOf({ "/run/my dir/token#": "t" }),
  };
  assert.equal(resolveToken(["AWS_TOKEN"], options), "t");
});

Deno.test("file://localhost/ is the local file", () => {
  const options = {
    getEnv: envOf({ AWS_TOKEN: "file://localhost/var/run/awssmatoken" }),
    readTextFile: filesOf({ "/var/run/awssmatoken": "t" }),
  };
  assert.equal(resolveToken(["AWS_TOKEN"], options), "t");
});

Deno.test("a file URL with a remote host is a clear error", () => {
  const message = tokenError(["AWS_TOKEN"], {
    getEnv: envOf({ AWS_TOKEN: "file://var/run/awssmatoken" }),
    readTextFile: () => assert.fail("must not read"),
  });
  assert.match(
    message,
    /^The SSRF token variable AWS_TOKEN holds an invalid file URL file:\/\/var\/run\/awssmatoken: \S/,
  );
});

Deno.test("an empty or whitespace-only token file is an error naming it", () => {
  for (const content of ["", " \n\t\n"]) {
    assert.equal(
      tokenError(["AWS_TOKEN"], {
        getEnv: envOf({ AWS_TOKEN: "file:///var/run/awssmatoken" }),
        readTextFile: () => content,
      }),
      "The SSRF token file /var/run/awssmatoken named by AWS_TOKEN is empty",
    );
  }
});

Deno.test("a missing token file is an error naming the file and the variable", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.equal(
      tokenError(["AWS_TOKEN"], {
        getEnv: envOf({ AWS_TOKEN: `file://${dir}/missing` }),
      }),
      `Could not read SSRF token file ${dir}/missing named by AWS_TOKEN: file not found`,
    );
  } finally {
    Deno.removeSync(dir);
  }
});

Deno.test("a directory as the token file is an error naming it", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.equal(
      tokenError(["AWS_TOKEN"], {
        getEnv: envOf({ AWS_TOKEN: `file://${dir}` }),
      }),
      `Could not read SSRF token file ${dir} named by AWS_TOKEN: it is a directory`,
    );
  } finally {
    Deno.removeSync(dir);
  }
});

Deno.test("a real token file on disk is read and trimmed", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/token`, "from-disk\n");
    assert.equal(
      resolveToken(["AWS_TOKEN"], {
        getEnv: envOf({ AWS_TOKEN: `file://${dir}/token` }),
      }),
      "from-disk",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a token file that is not UTF-8 is refused", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/token`, new Uint8Array([0xff, 0xfe, 0x41]));
    assert.equal(
      tokenError(["AWS_TOKEN"], {
        getEnv: envOf({ AWS_TOKEN: `file://${dir}/token` }),
      }),
      `Could not read SSRF token file ${dir}/token named by AWS_TOKEN: it is not UTF-8 text`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an unreadable token file reports permission denied", () => {
  assert.equal(
    tokenError(["AWS_TOKEN"], {
      getEnv: envOf({ AWS_TOKEN: "file:///var/run/awssmatoken" }),
      readTextFile: () => {
        throw new Deno.errors.PermissionDenied(
          "Permission denied (os error 13)",
        );
      },
    }),
    "Could not read SSRF token file /var/run/awssmatoken named by AWS_TOKEN: permission denied",
  );
});

Deno.test("a token file the sandbox refuses names the read permission to grant", () => {
  assert.equal(
    tokenError(["AWS_TOKEN"], {
      getEnv: envOf({ AWS_TOKEN: "file:///srv/token" }),
      readTextFile: () => {
        throw new Deno.errors.NotCapable(
          'Requires read access to "/srv/token"',
        );
      },
    }),
    "Permission denied by the sandbox: grant read access to /srv/token (--allow-read=/srv/token; the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions) to read the SSRF token file named by AWS_TOKEN",
  );
});

Deno.test("a variable the sandbox refuses names the env permission to grant", () => {
  assert.equal(
    tokenError(["MY_TOKEN", "AWS_TOKEN"], {
      getEnv: (name) => {
        throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
      },
    }),
    "Permission denied by the sandbox: grant env access to MY_TOKEN (--allow-env=MY_TOKEN; the grants are computed from the configuration and environment when the agent starts: start it with deno task start, and see them with deno task permissions) to read the SSRF token",
  );
});

Deno.test("other failures reading a variable are token errors, never crashes", () => {
  assert.equal(
    tokenError(["A=B"], {
      getEnv: () => {
        throw new TypeError('Key contains invalid characters: "A=B"');
      },
    }),
    'Could not read SSRF token variable A=B: Key contains invalid characters: "A=B"',
  );
});

const HEADERS = ["X-Aws-Parameters-Secrets-Token", "X-Vault-Token"];

Deno.test("the token is accepted in each configured header, names in any case", () => {
  const isAuthorized = createTokenCheck("s3cr3t", HEADERS);
  for (
    const name of [
      "X-Aws-Parameters-Secrets-Token",
      "x-aws-parameters-secrets-token",
      "X-VAULT-TOKEN",
      "x-vault-token",
    ]
  ) {
    assert.equal(isAuthorized(new Headers({ [name]: "s3cr3t" })), true, name);
  }
});

Deno.test("any one matching header is enough", () => {
  const isAuthorized = createTokenCheck("s3cr3t", HEADERS);
  assert.equal(
    isAuthorized(
      new Headers({
        "X-Aws-Parameters-Secrets-Token": "wrong",
        "X-Vault-Token": "s3cr3t",
      }),
    ),
    true,
  );
});

Deno.test("a wrong token, a missing header or an unconfigured header is refused", () => {
  const isAuthorized = createTokenCheck("s3cr3t", HEADERS);
  assert.equal(isAuthorized(new Headers({ "X-Vault-Token": "S3CR3T" })), false);
  assert.equal(isAuthorized(new Headers()), false);
  assert.equal(isAuthorized(new Headers({ "Authorization": "s3cr3t" })), false);
});

Deno.test("an empty header value never matches", () => {
  const isAuthorized = createTokenCheck("s3cr3t", HEADERS);
  assert.equal(isAuthorized(new Headers({ "X-Vault-Token": "" })), false);
});

Deno.test("a prefix or a suffix of the header value does not match", () => {
  const isAuthorized = createTokenCheck("s3cr3t", HEADERS);
  for (
    const value of ["s3cr3", "3cr3t", "s3cr3tt", "xs3cr3t", "s3cr3t s3cr3t"]
  ) {
    assert.equal(
      isAuthorized(new Headers({ "X-Vault-Token": value })),
      false,
      value,
    );
  }
});

Deno.test("a duplicated header does not match", () => {
  const isAuthorized = createTokenCheck("s3cr3t", HEADERS);
  const headers = new Headers();
  headers.append("X-Vault-Token", "s3cr3t");
  headers.append("X-Vault-Token", "s3cr3t");
  assert.equal(isAuthorized(headers), false);
});

Deno.test("a non-ASCII token matches the UTF-8 bytes a client sends", () => {
  const isAuthorized = createTokenCheck("tökén", ["X-Token"]);
  const wireBytes = new TextEncoder().encode("tökén");
  const asReceived = String.fromCharCode(...wireBytes); // one char per byte
  assert.equal(isAuthorized(new Headers({ "X-Token": asReceived })), true);
  assert.equal(isAuthorized(new Headers({ "X-Token": "tökén" })), false);
});

Deno.test("the check only looks at the configured header names", () => {
  const isAuthorized = createTokenCheck("s3cr3t", ["X-Custom"]);
  assert.equal(isAuthorized(new Headers({ "x-custom": "s3cr3t" })), true);
  assert.equal(isAuthorized(new Headers({ "X-Vault-Token": "s3cr3t" })), false);
});

Deno.test("an empty token or an invalid header name cannot build a check", () => {
  assert.throws(() => createTokenCheck("", HEADERS), {
    name: "TokenError",
    message: "The SSRF token is empty",
  });
  assert.throws(() => createTokenCheck("t", ["X Token"]), {
    name: "TokenError",
    message: 'Invalid SSRF header name "X Token"',
  });
});

Deno.test("by default the token comes from the process environment", () => {
  const name = `SSRF_TOKEN_TEST_${crypto.randomUUID().replaceAll("-", "_")}`;
  Deno.env.set(name, "from-env");
  try {
    assert.equal(resolveToken(["UNSET_" + name, name]), "from-env");
  } finally {
    Deno.env.delete(name);
  }
});
