import assert from "node:assert/strict";
import { formatPermissions } from "../../src/sandbox/flags.ts";
import type { Grants } from "../../src/sandbox/grants.ts";

const GRANTS: Grants = {
  read: [
    { value: "/srv/agent/config.toml", why: "the configuration file" },
    { value: "/srv/agent/logs", why: "the log folder" },
  ],
  write: [{ value: "/srv/agent/logs", why: "the log folder" }],
  net: [
    { value: "127.0.0.1:2773", why: "the listening address" },
    {
      value: "secretsmanager.eu-west-1.amazonaws.com:443",
      why: "Secrets Manager",
    },
    { value: "sts.eu-west-1.amazonaws.com:443", why: "STS" },
  ],
  env: [
    { value: "AWS_REGION", why: "read by the AWS SDK" },
    { value: "HOME", why: "read by the AWS SDK" },
  ],
  sys: [{ value: "osRelease", why: "the user agent" }],
  run: [],
  notes: ["The region is learned at run time."],
};

function flagLines(text: string): string[] {
  return text.split("\n").filter((line) =>
    line !== "" && !line.startsWith("#")
  );
}

Deno.test("the flags are --no-prompt, --no-remote, then one flag per kind with its entries comma-joined", () => {
  assert.deepEqual(
    flagLines(formatPermissions(GRANTS, { cachedOnly: false })),
    [
      "--no-prompt",
      "--no-remote",
      "--allow-read=/srv/agent/config.toml,/srv/agent/logs",
      "--allow-write=/srv/agent/logs",
      "--allow-net=127.0.0.1:2773,secretsmanager.eu-west-1.amazonaws.com:443,sts.eu-west-1.amazonaws.com:443",
      "--allow-env=AWS_REGION,HOME",
      "--allow-sys=osRelease",
    ],
  );
});

Deno.test("--cached-only is added only when the dependencies are cached", () => {
  const cached = flagLines(formatPermissions(GRANTS, { cachedOnly: true }));
  assert.deepEqual(cached.slice(0, 3), [
    "--no-prompt",
    "--no-remote",
    "--cached-only",
  ]);
  assert.ok(
    !formatPermissions(GRANTS, { cachedOnly: false }).includes("--cached-only"),
  );
});

Deno.test("a kind with no entries has no flag, so nothing is granted by an empty list", () => {
  const text = formatPermissions({ ...GRANTS, run: [], write: [] }, {
    cachedOnly: false,
  });
  assert.doesNotMatch(text, /--allow-run/);
  assert.doesNotMatch(text, /--allow-write/);
  const none: Grants = {
    read: [],
    write: [],
    net: [],
    env: [],
    sys: [],
    run: [],
    notes: [],
  };
  assert.deepEqual(flagLines(formatPermissions(none, { cachedOnly: false })), [
    "--no-prompt",
    "--no-remote",
  ]);
});

Deno.test("a run grant is printed as --allow-run with the program", () => {
  const text = formatPermissions(
    {
      ...GRANTS,
      run: [{ value: "/usr/local/bin/creds", why: "credential_process" }],
    },
    { cachedOnly: false },
  );
  assert.deepEqual(flagLines(text).at(-1), "--allow-run=/usr/local/bin/creds");
});

Deno.test("every other line is a comment: a heading, the notes, and each reason with the entries it grants", () => {
  const text = formatPermissions(GRANTS, { cachedOnly: false });
  const comments = text.split("\n").filter((line) => line.startsWith("#"));
  assert.match(comments[0], /^# The agent's grants/);
  assert.equal(comments[1], "# Note: The region is learned at run time.");
  assert.ok(
    comments.includes("# read /srv/agent/config.toml: the configuration file"),
  );
  assert.ok(comments.includes("# env AWS_REGION HOME: read by the AWS SDK"));
  // Each comment sits above its kind's flag.
  const lines = text.split("\n");
  assert.equal(
    lines.indexOf("# write /srv/agent/logs: the log folder") + 1,
    lines.indexOf("--allow-write=/srv/agent/logs"),
  );
});

Deno.test("the text ends with a newline and has no blank line", () => {
  const text = formatPermissions(GRANTS, { cachedOnly: true });
  assert.ok(text.endsWith("\n"));
  assert.ok(!text.slice(0, -1).split("\n").includes(""));
});
