/**
 * The agent's permission sandbox: a probe run under the `start` task's
 * permission set is refused everything outside the agent's needs, and
 * deno.json keeps no broad grant.
 */

import assert from "node:assert/strict";
import {
  cacheDir,
  copyProject,
  startTaskCommand,
} from "./support/agent_process.ts";
import {
  AGENT_SOCKET_FILES,
  DEFAULT_IMPORT_HOSTS,
  FORBIDDEN_NET_HOSTS,
  NEEDED_NET_HOSTS,
  type SandboxReport,
} from "./support/sandbox_probe.ts";

const PROBE = "tests/support/sandbox_probe.ts";
const DENO_JSON = new URL("../deno.json", import.meta.url);
const SET_NAME = "agent";
/** Tasks that run the agent itself, under its set. */
const AGENT_TASKS = ["start", "compile"];
/**
 * The sys APIs needed; anything more must be argued for here: the SDK reads
 * osRelease, and binding the Unix socket sets the umask for its mode.
 */
const NEEDED_SYS = ["osRelease", "umask"];
/** The log folders and the socket files: the only places the agent may write. */
const WRITABLE = [
  "./logs",
  "/opt/aws/secretsmanageragent/logs",
  ...AGENT_SOCKET_FILES,
];
const KNOWN_CATEGORIES = ["net", "read", "write", "env", "sys", "import"];

function expect(
  result: "granted" | "denied",
  names: readonly string[],
): SandboxReport {
  return Object.fromEntries(names.map((name) => [name, result]));
}

/** What the probe must find, probe by probe. */
const EXPECTED: SandboxReport = {
  ...expect("denied", [
    "read /etc/passwd",
    "read $HOME/notes.txt",
    "read $HOME/.ssh/id_rsa",
    "read ./deno.json",
    "query read /root/.ssh",
    "query read /",
    "write ./config.toml",
    "write outside file",
    "symlink ./logs/passwd -> /etc/passwd",
    ...FORBIDDEN_NET_HOSTS.map((host) => `query net ${host}`),
    "listen 0.0.0.0",
    "listen unix outside",
    "connect 127.0.0.2:9",
    ...DEFAULT_IMPORT_HOSTS.map((host) => `query import ${host}`),
    "spawn true",
    "query run",
    "request run",
    "dlopen libc",
    "query ffi",
    "env PATH",
    "env SECRET_THING",
    "env all",
    "sys hostname",
  ]),
  ...expect("granted", [
    "read ./config.toml",
    "read $HOME/.aws/credentials",
    "write ./logs/probe.txt",
    ...NEEDED_NET_HOSTS.map((host) => `query net ${host}`),
    "listen 127.0.0.1",
    "listen [::1]",
    ...AGENT_SOCKET_FILES.flatMap((path) => [
      `query net unix:${path}`,
      `query write ${path}`,
    ]),
    "env AWS_REGION",
    "sys osRelease",
    "sys umask",
  ]),
};

async function writeFile(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Runs the probe with the `start` task's command line, in a project copy. */
async function runProbe(): Promise<
  { report: SandboxReport; dir: string; outsideFile: string }
> {
  const dir = await copyProject({
    files: ["deno.json", "deno.lock", PROBE],
    prefix: "sandbox-",
  });
  const outside = await Deno.makeTempDir({ prefix: "sandbox-outside-" });
  const outsideFile = `${outside}/x`;
  try {
    // HOME is the agent folder, as the process tests run it: ./.aws granted.
    await writeFile(`${dir}/notes.txt`, "not for the agent");
    await writeFile(`${dir}/.ssh/id_rsa`, "not for the agent");
    await writeFile(`${dir}/.aws/credentials`, "[default]\n");
    await writeFile(`${dir}/config.toml`, "http_port = 2773\n");
    const words = await startTaskCommand();
    assert.equal(words.filter((word) => word === "main.ts").length, 1);
    const [program, ...args] = words.map((word) =>
      word === "main.ts" ? PROBE : word
    );
    const { code, stdout, stderr } = await new Deno.Command(
      program === "deno" ? Deno.execPath() : program,
      {
        args: [...args, `--outside-file=${outsideFile}`],
        cwd: dir,
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          DENO_DIR: await cacheDir(),
          NO_COLOR: "1",
          HOME: dir,
          AWS_REGION: "us-east-1",
          SECRET_THING: "must-not-leak",
        },
        stdin: "null",
      },
    ).output();
    const decoder = new TextDecoder();
    assert.equal(code, 0, decoder.decode(stderr));
    return {
      report: JSON.parse(decoder.decode(stdout)),
      dir,
      outsideFile,
    };
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
}

Deno.test("code run under the agent's permission set is refused files, hosts, processes, FFI, variables and system data outside its needs, and keeps what it needs", async (t) => {
  const { report, dir, outsideFile } = await runProbe();
  try {
    assert.deepEqual(Object.keys(report).sort(), Object.keys(EXPECTED).sort());
    for (const [name, expected] of Object.entries(EXPECTED)) {
      await t.step(`${name}: ${expected}`, () => {
        assert.equal(report[name], expected);
      });
    }
    await t.step("refused attempts left nothing behind", async () => {
      assert.equal(await exists(outsideFile), false);
      assert.equal(await exists(`${dir}/logs/passwd`), false);
      assert.equal(
        await Deno.readTextFile(`${dir}/config.toml`),
        "http_port = 2773\n",
      );
      assert.equal(
        await Deno.readTextFile(`${dir}/logs/probe.txt`),
        "inside",
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// The declaration itself.

/** A flag word that grants too much on its own. */
const BROAD_FLAG =
  /^(-A|--allow-all|--allow-run|--allow-ffi|--allow-import|-I|--allow-read|-R|--allow-write|-W|--allow-net|-N|--allow-env|-E|--allow-sys|-S|--allow-hrtime|--unsafely-ignore-certificate-errors)(=.*)?$/;
/** Flags that may carry a value without granting everything. */
const SCOPED_FLAG = /^--allow-(read|write|net|env|sys)=./;

/** The problems with one task's words, [] when none. */
function taskProblems(name: string, words: readonly string[]): string[] {
  const problems: string[] = [];
  for (const word of words) {
    if (!BROAD_FLAG.test(word)) continue;
    // Even scoped flags bypass the one declaration: the set holds them.
    problems.push(
      SCOPED_FLAG.test(word)
        ? `${name}: ${word} (grants belong in the "${SET_NAME}" set)`
        : `${name}: ${word} grants too much`,
    );
  }
  const runsAgent = words.includes("main.ts");
  if (runsAgent && !words.some((word) => isSetFlag(word))) {
    problems.push(`${name}: runs main.ts without -P=${SET_NAME}`);
  }
  if (runsAgent && !words.includes("--no-prompt")) {
    problems.push(`${name}: runs main.ts without --no-prompt`);
  }
  return problems;
}

function isSetFlag(word: string): boolean {
  return word === `-P=${SET_NAME}` || word === `--permission-set=${SET_NAME}`;
}

function isRoot(path: string): boolean {
  const trimmed = path.trim().replace(/\/+$/, "");
  return ["", "/", ".", "~", "..", "*"].includes(trimmed) ||
    /^[A-Za-z]:$/.test(trimmed) || trimmed.includes("..");
}

/** The problems with the permission set, [] when none. */
function setProblems(set: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [category, value] of Object.entries(set)) {
    if (!KNOWN_CATEGORIES.includes(category)) {
      problems.push(`"${category}" must not be granted at all`);
      continue;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      problems.push(`"${category}" must be a list of names, got ${value}`);
      continue;
    }
    if (value.length === 0) {
      // For import, [] silently keeps Deno's default hosts.
      problems.push(`"${category}": [] is unclear, leave it out or name hosts`);
    }
    for (const entry of value as string[]) {
      if (entry.trim() === "*") problems.push(`"${category}": "*"`);
    }
  }
  for (const path of asList(set.read)) {
    if (isRoot(path)) problems.push(`read: "${path}" is a root`);
  }
  for (const path of asList(set.write)) {
    if (!WRITABLE.includes(path.replace(/\/+$/, ""))) {
      problems.push(`write: "${path}" is not a log folder or the socket`);
    }
  }
  for (const host of asList(set.net)) {
    if (/^(\*\.)?[a-z]+$/i.test(host) || /^0\.0\.0\.0|^\[::\]/.test(host)) {
      problems.push(`net: "${host}" is too wide`);
    }
  }
  for (const name of asList(set.env)) {
    // A wildcard needs a real prefix, as in AWS_*.
    if (name !== "*" && /^.{0,2}\*/.test(name)) {
      problems.push(`env: "${name}" is too wide`);
    }
  }
  for (const api of asList(set.sys)) {
    if (!NEEDED_SYS.includes(api)) problems.push(`sys: "${api}" is not needed`);
  }
  return problems;
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

Deno.test("deno.json: the tasks that run the agent use its permission set with --no-prompt and no broad flag", async () => {
  const config = JSON.parse(await Deno.readTextFile(DENO_JSON));
  const tasks = config.tasks as Record<string, string>;
  for (const name of AGENT_TASKS) {
    assert.equal(typeof tasks[name], "string", `task ${name} is missing`);
  }
  const problems = Object.entries(tasks)
    .filter(([name, line]) =>
      AGENT_TASKS.includes(name) || line.split(/\s+/).includes("main.ts")
    )
    .flatMap(([name, line]) => taskProblems(name, line.split(/\s+/)));
  assert.deepEqual(problems, []);
});

Deno.test("deno.json: the agent's permission set grants no run, ffi or all, no true, no root folder, and writes only log folders and the socket", async () => {
  const config = JSON.parse(await Deno.readTextFile(DENO_JSON));
  const set = config.permissions?.[SET_NAME];
  assert.equal(typeof set, "object", `permission set "${SET_NAME}" missing`);
  assert.deepEqual(setProblems(set), []);
  assert.ok(asList(set.write).length > 0, "the agent must be able to log");
});

Deno.test("the declaration checks catch each kind of broad grant", () => {
  const start = ["deno", "run", "-P=agent", "--no-prompt", "main.ts"];
  assert.deepEqual(taskProblems("start", start), []);
  for (const flag of ["-A", "--allow-all", "--allow-run", "--allow-ffi"]) {
    assert.equal(taskProblems("start", [...start, flag]).length, 1, flag);
  }
  for (const flag of ["--allow-read", "-R", "--allow-net", "--allow-import"]) {
    assert.equal(taskProblems("start", [...start, flag]).length, 1, flag);
  }
  assert.equal(
    taskProblems("start", [...start, "--allow-write=/"]).length,
    1,
  );
  assert.deepEqual(taskProblems("start", ["deno", "run", "main.ts"]), [
    "start: runs main.ts without -P=agent",
    "start: runs main.ts without --no-prompt",
  ]);

  const good = {
    net: ["127.0.0.1", "*.amazonaws.com:443"],
    read: ["./config.toml", "/root/.aws"],
    write: ["./logs"],
    env: ["AWS_*", "HOME"],
    sys: ["osRelease"],
  };
  assert.deepEqual(setProblems(good), []);
  const broad: Record<string, unknown>[] = [
    { ...good, run: ["true"] },
    { ...good, ffi: true },
    { ...good, all: true },
    { ...good, net: true },
    { ...good, read: ["/"] },
    { ...good, read: ["~"] },
    { ...good, read: ["."] },
    { ...good, read: ["./logs/../.."] },
    { ...good, write: ["./logs", "/tmp"] },
    { ...good, net: ["*"] },
    { ...good, net: ["*.com"] },
    { ...good, env: ["*"] },
    { ...good, env: ["A*"] },
    { ...good, import: [] },
    { ...good, sys: ["osRelease", "hostname"] },
  ];
  for (const set of broad) {
    assert.equal(setProblems(set).length, 1, JSON.stringify(set));
  }
});
