/**
 * `deno task compile --config FILE` (scripts/compile.sh): it computes the
 * grants of that deployment with `--print-permissions`, in the folder the
 * binary will run in, and bakes exactly those into `deno compile`.
 *
 * Most tests put a fake `deno` first on PATH: it runs every subcommand with
 * the real Deno except `compile`, whose arguments it records, so they check
 * what `deno compile` is asked without building. The real build downloads
 * its runtime (`denort`) unless `DENORT_BIN` names one, and CI cannot
 * download: without `DENORT_BIN` that test is ignored.
 */

import assert from "node:assert/strict";
import {
  AGENT_TOKEN,
  agentEnvironment,
  copyProject,
  freePort,
  TOKEN_HEADER,
} from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";
import { VERSION } from "../../src/version.ts";

const DENORT_BIN = Deno.env.get("DENORT_BIN");
const BINARY_NAME = "aws_secretsmanager_agent";
/** What the compile task needs in a project copy. */
const PROJECT_FILES = ["deno.json", "deno.lock", "main.ts", "src", "scripts"];
const V8_FLAGS = "--v8-flags=--optimize-for-size,--no-maglev";
/** Flags that would grant a whole kind, not a list of entries. */
const BROAD_FLAGS = [
  "-A",
  "--allow-all",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
  "--allow-ffi",
  "--allow-import",
];
/** Deno's default `--allow-import` hosts: the binary must load no code from them. */
const DEFAULT_IMPORT_HOSTS = [
  "deno.land:443",
  "jsr.io:443",
  "esm.sh:443",
  "raw.esm.sh:443",
  "cdn.jsdelivr.net:443",
  "raw.githubusercontent.com:443",
  "gist.githubusercontent.com:443",
];
const RUN_TIMEOUT_MS = 30_000;

if (!DENORT_BIN) {
  console.log(
    "compile_test.ts: skipping the compiled-binary test: DENORT_BIN is not set " +
      "(deno compile would download denort, the Deno runtime; set DENORT_BIN " +
      "to a denort binary of this Deno version to run it)",
  );
}

const decoder = new TextDecoder();

/** A project copy, a deployment folder beside it, and a fake `deno`. */
interface Workspace {
  readonly project: string;
  readonly deploy: string;
  /** The folder holding the fake `deno`, to put first on PATH. */
  readonly fakeDeno: string;
  /** The arguments of the `deno compile` run, or undefined when none ran. */
  compileArgs(): Promise<string[] | undefined>;
}

async function withWorkspace(test: (space: Workspace) => Promise<void>) {
  const project = await copyProject({
    prefix: "compile-",
    files: PROJECT_FILES,
  });
  const deploy = await Deno.makeTempDir({ prefix: "compile-deploy-" });
  const fakeDeno = `${deploy}/.fake-deno`;
  const record = `${deploy}/.compile-args`;
  await Deno.mkdir(fakeDeno);
  await Deno.writeTextFile(
    `${fakeDeno}/deno`,
    `#!/bin/sh\nif [ "$1" = compile ]; then shift; printf '%s\\n' "$@" >'${record}'; exit 0; fi\nexec '${Deno.execPath()}' "$@"\n`,
  );
  await Deno.chmod(`${fakeDeno}/deno`, 0o755);
  try {
    await test({
      project,
      deploy,
      fakeDeno,
      async compileArgs() {
        try {
          return (await Deno.readTextFile(record)).trimEnd().split("\n");
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) return undefined;
          throw error;
        }
      },
    });
  } finally {
    await Deno.remove(project, { recursive: true });
    await Deno.remove(deploy, { recursive: true });
  }
}

/** What a finished command left. */
interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function finished(command: Deno.Command): Promise<Finished> {
  const { code, stdout, stderr } = await command.output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** The agent's environment for `deploy`, the fake `deno` first on PATH. */
async function fakeDenoEnvironment(
  space: Workspace,
): Promise<Record<string, string>> {
  const env = await agentEnvironment(space.deploy);
  return { ...env, PATH: `${space.fakeDeno}:${env.PATH}` };
}

/** `deno task compile ARGS`, started from `cwd` (the task's INIT_CWD). */
async function compileTask(
  project: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Finished> {
  return await finished(
    new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--quiet",
        "--config",
        `${project}/deno.json`,
        "compile",
        ...args,
      ],
      cwd: options.cwd,
      clearEnv: true,
      env: options.env,
      stdin: "null",
    }),
  );
}

/** `--print-permissions` for `config`, run in `cwd`, as the start script runs it. */
async function printedPermissions(
  project: string,
  config: string,
  options: { cwd: string; env: Record<string, string> },
): Promise<string> {
  const result = await finished(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-read",
        "--allow-env",
        "--config",
        `${project}/deno.json`,
        `${project}/main.ts`,
        "--print-permissions",
        "--config",
        config,
      ],
      cwd: options.cwd,
      clearEnv: true,
      env: options.env,
      stdin: "null",
    }),
  );
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** The flag lines of a printed permission set. */
function flagLines(printed: string): string[] {
  return printed.split("\n").filter((line) =>
    line !== "" && !line.startsWith("#")
  );
}

/** The entries of `--allow-KIND=...`, empty when the flag is absent. */
function grantList(args: readonly string[], kind: string): string[] {
  const prefix = `--allow-${kind}=`;
  const arg = args.find((each) => each.startsWith(prefix));
  return arg === undefined ? [] : arg.slice(prefix.length).split(",");
}

/** Every grant names entries: no bare kind flag, no empty or wildcard entry. */
function assertOnlyListedGrants(args: readonly string[]): void {
  for (const flag of BROAD_FLAGS) {
    assert.ok(!args.includes(flag), `${flag} grants everything of its kind`);
  }
  for (const arg of args.filter((each) => each.startsWith("--allow-"))) {
    for (const entry of arg.slice(arg.indexOf("=") + 1).split(",")) {
      assert.ok(
        entry !== "" && !entry.includes("*"),
        `${arg}: entry '${entry}'`,
      );
    }
  }
}

Deno.test("deno task compile bakes what --print-permissions computes for the config, run in the config's folder: the config file, its logs folder, a [[file]] folder, the listening port, prompts off, the V8 flags, then --output and main.ts", async () => {
  await withWorkspace(async (space) => {
    const { project, deploy } = space;
    const port = freePort();
    await Deno.mkdir(`${deploy}/secrets`);
    await Deno.writeTextFile(
      `${deploy}/config.toml`,
      `http_port = ${port}\n[[file]]\nsecret_id = "db"\npath = "${deploy}/secrets/db"\n`,
    );
    const env = await fakeDenoEnvironment(space);

    // Relative paths are the caller's: deno task runs in the project folder.
    const result = await compileTask(
      project,
      ["--config", "config.toml", "--output", "bin/agent"],
      { cwd: deploy, env },
    );
    assert.equal(result.code, 0, result.stderr);
    const baked = await space.compileArgs();
    assert.ok(baked, `deno compile did not run:\n${result.stderr}`);

    const printed = await printedPermissions(project, `${deploy}/config.toml`, {
      cwd: deploy,
      env,
    });
    const flags = flagLines(printed);
    assert.deepEqual(baked.slice(0, flags.length), flags);
    // The operator saw them, comments included, before the build.
    assert.ok(result.stderr.includes(printed), result.stderr);

    assert.ok(baked.includes("--no-prompt"));
    const read = grantList(baked, "read");
    assert.ok(read.includes(`${deploy}/config.toml`), read.join(","));
    assert.ok(read.includes(`${deploy}/logs`), read.join(","));
    assert.ok(read.includes(`${deploy}/secrets`), read.join(","));
    assert.deepEqual(grantList(baked, "write"), [
      `${deploy}/logs`,
      `${deploy}/secrets`,
    ]);
    assert.ok(grantList(baked, "net").includes(`127.0.0.1:${port}`));
    assertOnlyListedGrants(baked);
    assert.deepEqual(baked.slice(flags.length), [
      V8_FLAGS,
      "--output",
      `${deploy}/bin/agent`,
      `${project}/main.ts`,
    ]);
  });
});

Deno.test("deno task compile with --working-dir and --target grants that folder's logs, passes the target on, and writes ./aws_secretsmanager_agent in the project by default", async () => {
  await withWorkspace(async (space) => {
    const { project, deploy } = space;
    await Deno.mkdir(`${deploy}/etc`);
    await Deno.mkdir(`${deploy}/run`);
    await Deno.writeTextFile(`${deploy}/etc/agent.toml`, "http_port = 2999\n");

    const result = await compileTask(
      project,
      [
        "--config=etc/agent.toml",
        "--working-dir",
        "run",
        "--target",
        "aarch64-unknown-linux-gnu",
      ],
      { cwd: deploy, env: await fakeDenoEnvironment(space) },
    );
    assert.equal(result.code, 0, result.stderr);
    const baked = await space.compileArgs();
    assert.ok(baked, `deno compile did not run:\n${result.stderr}`);

    const read = grantList(baked, "read");
    assert.ok(read.includes(`${deploy}/etc/agent.toml`), read.join(","));
    assert.ok(read.includes(`${deploy}/run/logs`), read.join(","));
    assert.ok(!read.includes(`${deploy}/etc/logs`), read.join(","));
    assert.deepEqual(grantList(baked, "write"), [`${deploy}/run/logs`]);
    assert.ok(grantList(baked, "net").includes("127.0.0.1:2999"));
    assertOnlyListedGrants(baked);
    assert.deepEqual(baked.slice(-6), [
      V8_FLAGS,
      "--target",
      "aarch64-unknown-linux-gnu",
      "--output",
      `${project}/${BINARY_NAME}`,
      `${project}/main.ts`,
    ]);
  });
});

Deno.test("deno task compile builds nothing: one line and exit 1 without --config or for an unknown argument; the --print-permissions run's own line and status for a config the agent refuses", async () => {
  await withWorkspace(async (space) => {
    const { project, deploy } = space;
    const env = await fakeDenoEnvironment(space);
    await Deno.writeTextFile(`${deploy}/bad.toml`, "http_port = 80\n");
    const cases: [string[], RegExp][] = [
      [[], /^compile\.sh: error: --config FILE is required.*\n$/],
      [
        ["--output", "x"],
        /^compile\.sh: error: --config FILE is required.*\n$/,
      ],
      [
        ["--config", "bad.toml", "--bogus"],
        /^compile\.sh: error: unknown argument: --bogus .*\n$/,
      ],
      [["--config"], /^compile\.sh: error: --config needs a value.*\n$/],
      [
        ["--config", "absent.toml"],
        /^compile\.sh: error: --config \S*absent\.toml: no such file.*\n$/,
      ],
      [
        ["--config", "bad.toml"],
        /^The HTTP port specified in the configuration file isn't valid\..*\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await compileTask(project, args, { cwd: deploy, env });
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
      assert.equal(await space.compileArgs(), undefined, args.join(" "));
    }
  });
});

/** Baked run-time options, as `deno compile` embeds them (Deno 2.x layout). */
interface BakedMetadata {
  readonly permissions: Record<string, unknown>;
}

/** Finds and parses the JSON metadata `deno compile` embeds in the binary. */
async function bakedMetadata(binary: string): Promise<BakedMetadata> {
  const bytes = await Deno.readFile(binary);
  const marker = new TextEncoder().encode('{"argv":');
  const start = indexOf(bytes, marker);
  assert.ok(start >= 0, "no embedded metadata found in the binary");
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b) depth++;
    else if (byte === 0x7d && --depth === 0) {
      return JSON.parse(decoder.decode(bytes.subarray(start, i + 1)));
    }
  }
  throw new Error("the embedded metadata does not end");
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  let at = haystack.indexOf(needle[0]);
  while (at >= 0 && at + needle.length <= haystack.length) {
    if (needle.every((byte, i) => haystack[at + i] === byte)) return at;
    at = haystack.indexOf(needle[0], at + 1);
  }
  return -1;
}

/** The agent's stdout line once it serves. */
const LISTENING = /listening on http:\/\/127\.0\.0\.1:/;

/** How to run the binary, and what to do while it serves. */
interface RunBinaryOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly args: string[];
  whileServing(): Promise<void>;
}

/** Runs the binary until its listening line, calls `whileServing`, then stops it with SIGTERM. */
async function runBinary(
  binary: string,
  options: RunBinaryOptions,
): Promise<Finished> {
  const child = new Deno.Command(binary, {
    args: options.args,
    cwd: options.cwd,
    clearEnv: true,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  async function readUntil(pattern?: RegExp): Promise<boolean> {
    while (!pattern?.test(stdout)) {
      const { value, done } = await lines.read();
      if (done) return false;
      stdout += value;
    }
    return true;
  }
  const listening = await readUntil(LISTENING);
  try {
    if (listening) await options.whileServing();
  } finally {
    clearTimeout(timer);
    if (listening) child.kill("SIGTERM");
    await readUntil();
    await child.status;
  }
  const { code } = await child.status;
  if (!listening) {
    throw new Error(
      `the binary did not start (exit ${code}):\n${await stderr}`,
    );
  }
  return { code, stdout, stderr: await stderr };
}

Deno.test({
  name:
    "deno task compile builds a binary that answers --version, carries the printed grants with prompts off, and serves a secret in the deployment it was built for",
  ignore: !DENORT_BIN,
  fn: async (t) => {
    const upstream = await startSecretsManagerServer();
    upstream.createSecret("compiled/db", "compiled-secret-value");
    const project = await copyProject({
      prefix: "compile-",
      files: PROJECT_FILES,
    });
    const deploy = await Deno.makeTempDir({ prefix: "compile-deploy-" });
    try {
      const port = freePort();
      const config = `${deploy}/config.toml`;
      await Deno.writeTextFile(config, `http_port = ${port}\n`);
      // The deployment's environment, the same at build and at run time.
      const env = await agentEnvironment(deploy, {
        AWS_ENDPOINT_URL_SECRETS_MANAGER: upstream.url,
        AWS_ENDPOINT_URL_STS: upstream.url,
      });
      const compiled = await compileTask(project, ["--config", config], {
        cwd: deploy,
        env: { ...env, DENORT_BIN: DENORT_BIN ?? "" },
      });
      assert.equal(compiled.code, 0, compiled.stderr);
      const binary = `${project}/${BINARY_NAME}`;
      assert.ok((await Deno.stat(binary)).isFile, `${binary} was not built`);

      await t.step("--version prints the agent's version", async () => {
        const result = await finished(
          new Deno.Command(binary, {
            args: ["--version"],
            clearEnv: true,
            env: { PATH: "/usr/bin:/bin" },
            stdin: "null",
          }),
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), VERSION);
      });

      await t.step("the baked permissions are the printed grants", async () => {
        const flags = flagLines(
          await printedPermissions(project, config, { cwd: deploy, env }),
        );
        const { permissions: baked } = await bakedMetadata(binary);
        assert.equal(baked.prompt, false, "prompts must be off");
        assert.notEqual(baked.allow_all, true);
        assert.equal(baked.allow_ffi, null, "allow_ffi must not be granted");
        for (const kind of ["read", "write", "net", "env", "sys", "run"]) {
          const list = grantList(flags, kind);
          assert.deepEqual(
            baked[`allow_${kind}`],
            list.length === 0 ? null : list,
            kind,
          );
        }
        const imports = (baked.allow_import ?? []) as string[];
        assert.deepEqual(
          imports.filter((host) => DEFAULT_IMPORT_HOSTS.includes(host)),
          [],
          "the binary may import code from the default hosts",
        );
      });

      await t.step("it serves a secret where it was built to run", async () => {
        const exit = await runBinary(binary, {
          cwd: deploy,
          env,
          args: ["--config", config],
          async whileServing() {
            const response = await fetch(
              `http://127.0.0.1:${port}/secretsmanager/get?secretId=compiled%2Fdb`,
              { headers: { [TOKEN_HEADER]: AGENT_TOKEN } },
            );
            const body = await response.json();
            assert.equal(response.status, 200, JSON.stringify(body));
            assert.equal(body.SecretString, "compiled-secret-value");
          },
        });
        assert.equal(exit.code, 0, exit.stderr);
        assert.ok(
          (await Deno.stat(`${deploy}/logs/secrets_manager_agent.log`)).isFile,
          "no log file in the granted logs folder",
        );
      });
    } finally {
      await upstream.close();
      await Deno.remove(project, { recursive: true });
      await Deno.remove(deploy, { recursive: true });
    }
  },
});
