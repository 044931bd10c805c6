import assert from "node:assert/strict";
import { DEFAULT_CONFIG, parseConfig } from "../../src/config/config.ts";
import {
  installPath,
  runScript,
  type ScriptResult,
  systemdPath,
} from "../support/run_script.ts";
import { parseUnitFile, unitValues } from "../support/unit_file.ts";
import { cacheDir } from "../support/agent_process.ts";

const INSTALL = installPath("install");
const UNINSTALL = installPath("uninstall");
const AGENT_DIR = "/opt/aws/secretsmanageragent";
const UNIT_DIR = "/etc/systemd/system";
const COMPILE_SCRIPT = new URL("../../scripts/compile.sh", import.meta.url)
  .pathname;
const MAIN_TS = new URL("../../main.ts", import.meta.url).pathname;

/** A staging root, the fake binary beside it, and the scripts bound to it. */
interface Stage {
  root: string;
  binary: string;
  install(...args: string[]): Promise<ScriptResult>;
  uninstall(...args: string[]): Promise<ScriptResult>;
}

async function withStage(test: (stage: Stage) => Promise<void>) {
  const outer = await Deno.makeTempDir();
  const root = `${outer}/root`;
  const binary = `${outer}/aws_secretsmanager_agent`;
  await Deno.mkdir(root);
  await Deno.writeTextFile(binary, "fake agent binary, version 1\n");
  try {
    await test({
      root,
      binary,
      install: (...args) =>
        runScript(INSTALL, ["--root", root, "--binary", binary, ...args]),
      uninstall: (...args) => runScript(UNINSTALL, ["--root", root, ...args]),
    });
  } finally {
    await Deno.remove(outer, { recursive: true });
  }
}

/** Every path under `root` with its mode, and file contents. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const info = await Deno.lstat(path);
      const mode = (info.mode! & 0o7777).toString(8);
      const relative = path.slice(root.length);
      if (entry.isDirectory) {
        entries.set(relative, `dir ${mode}`);
        await walk(path);
      } else {
        entries.set(relative, `${mode} ${await Deno.readTextFile(path)}`);
      }
    }
  }
  await walk(root);
  return entries;
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

async function addPreexistingFiles(root: string): Promise<void> {
  await Deno.mkdir(`${root}${UNIT_DIR}`, { recursive: true });
  await Deno.writeTextFile(`${root}${UNIT_DIR}/other.service`, "[Unit]\n");
  await Deno.mkdir(`${root}/opt/aws/other-tool`, { recursive: true });
  await Deno.writeTextFile(`${root}/opt/aws/other-tool/keep.txt`, "keep\n");
}

Deno.test("install stages the binary, token script, config, logs directory and units with their modes", async () => {
  await withStage(async ({ root, binary, install }) => {
    const result = await install();
    assert.equal(result.code, 0, result.stderr);

    const bin = `${root}${AGENT_DIR}/bin`;
    assert.equal(
      await Deno.readTextFile(`${bin}/aws_secretsmanager_agent`),
      await Deno.readTextFile(binary),
    );
    assert.equal(await mode(`${bin}/aws_secretsmanager_agent`), 0o755);
    assert.equal(
      await Deno.readTextFile(`${bin}/awssmaseedtoken`),
      await Deno.readTextFile(installPath("awssmaseedtoken")),
    );
    assert.equal(await mode(`${bin}/awssmaseedtoken`), 0o755);
    assert.equal(await mode(bin), 0o755);
    assert.equal(await mode(`${root}${AGENT_DIR}`), 0o755);
    assert.ok((await Deno.stat(`${root}${AGENT_DIR}/logs`)).isDirectory);
    assert.equal(await mode(`${root}${AGENT_DIR}/logs`), 0o700);
    assert.equal(
      await Deno.readTextFile(`${root}${AGENT_DIR}/config.toml`),
      await Deno.readTextFile(installPath("config.toml")),
    );
    assert.equal(await mode(`${root}${AGENT_DIR}/config.toml`), 0o644);
    for (const unit of ["awssmaseedtoken.service", "awssmaagent.service"]) {
      assert.equal(
        await Deno.readTextFile(`${root}${UNIT_DIR}/${unit}`),
        await Deno.readTextFile(systemdPath(unit)),
      );
      assert.equal(await mode(`${root}${UNIT_DIR}/${unit}`), 0o644);
    }
  });
});

Deno.test("installed units point at the installed binary, script, config and directories", async () => {
  await withStage(async ({ root, install }) => {
    assert.equal((await install()).code, 0);
    const agent = parseUnitFile(
      await Deno.readTextFile(`${root}${UNIT_DIR}/awssmaagent.service`),
    );
    const token = parseUnitFile(
      await Deno.readTextFile(`${root}${UNIT_DIR}/awssmaseedtoken.service`),
    );
    const [execStart] = unitValues(agent, "Service", "ExecStart");
    const [program, flag, config] = execStart.split(" ");
    assert.equal(await mode(`${root}${program}`) & 0o111, 0o111);
    assert.equal(flag, "--config");
    assert.ok((await Deno.stat(`${root}${config}`)).isFile);
    for (const key of ["WorkingDirectory", "ReadWritePaths"]) {
      const [dir] = unitValues(agent, "Service", key);
      assert.ok((await Deno.stat(`${root}${dir}`)).isDirectory, key);
    }
    for (const key of ["ExecStart", "ExecStop"]) {
      const [script] = unitValues(token, "Service", key)[0].split(" ");
      assert.equal(await mode(`${root}${script}`) & 0o111, 0o111, key);
    }
  });
});

Deno.test("install --binary with --root prints the user, group, ownership and systemctl commands instead of running them, and builds nothing", async () => {
  await withStage(async ({ root, install }) => {
    const { code, stdout } = await install();
    assert.equal(code, 0);
    const wouldRun = stdout.split("\n").filter((line) =>
      line.startsWith("would run: ")
    );
    assert.deepEqual(wouldRun.map((line) => line.split(" ")[2]), [
      "groupadd",
      "useradd",
      "chown",
      "systemctl",
      "systemctl",
      "systemctl",
      "systemctl",
    ]);
    assert.ok(
      wouldRun.includes("would run: groupadd --system awssmatokenreader"),
    );
    assert.match(
      stdout,
      /would run: useradd --system --user-group --no-create-home --home-dir \/opt\/aws\/secretsmanageragent --shell \S*nologin awssmauser/,
    );
    assert.ok(
      wouldRun.includes(
        `would run: chown awssmauser:awssmauser ${root}${AGENT_DIR}/logs`,
      ),
    );
    assert.ok(
      wouldRun.includes(
        "would run: systemctl enable awssmaseedtoken.service awssmaagent.service",
      ),
    );
  });
});

/** The stage's folder around `root`, for files outside the staged tree. */
function outside(root: string): string {
  return root.slice(0, root.lastIndexOf("/"));
}

async function bashPath(): Promise<string> {
  const { stdout } = await new Deno.Command("bash", {
    args: ["-c", "command -v bash"],
  }).output();
  return new TextDecoder().decode(stdout).trim();
}

/** A `deno` that records what `deno compile` is asked and runs the rest. */
interface FakeDeno {
  /** The folder holding it, to put first on PATH. */
  readonly folder: string;
  /** The arguments of the last `deno compile`, or undefined when none ran. */
  compileArgs(): Promise<string[] | undefined>;
}

async function writeFakeDeno(dir: string): Promise<FakeDeno> {
  const folder = `${dir}/fake-deno`;
  const record = `${dir}/compile-args`;
  await Deno.mkdir(folder);
  // Paths are written into the script: the build runs under `env -i`.
  await Deno.writeTextFile(
    `${folder}/deno`,
    `#!/bin/sh\nif [ "$1" = compile ]; then shift; printf '%s\\n' "$@" >'${record}'; exit 0; fi\nexec '${Deno.execPath()}' "$@"\n`,
  );
  await Deno.chmod(`${folder}/deno`, 0o755);
  return {
    folder,
    async compileArgs() {
      try {
        return (await Deno.readTextFile(record)).trimEnd().split("\n");
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return undefined;
        throw error;
      }
    },
  };
}

/** The environment the tests' callers have: a region and keys of their own. */
const CALLER_ENV = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIDCALLER",
  AWS_SECRET_ACCESS_KEY: "caller-secret",
};

/** Install without --binary into `root`, the fake deno first on PATH. */
function installBuilding(root: string, deno: FakeDeno) {
  return runScript(INSTALL, ["--root", root], {
    env: {
      ...CALLER_ENV,
      PATH: `${deno.folder}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    },
  });
}

/** The printed build command's words, after `would run: `. */
function buildCommand(stdout: string): string[] {
  const lines = stdout.split("\n").filter((line) =>
    line.startsWith("would run: env ")
  );
  assert.equal(lines.length, 1, stdout);
  return lines[0].slice("would run: ".length).split(" ");
}

/** The permission flag's list, or undefined when the flag is absent. */
function grantList(
  args: readonly string[],
  flag: string,
): string[] | undefined {
  const arg = args.find((each) => each.startsWith(`${flag}=`));
  return arg?.slice(flag.length + 1).split(",");
}

Deno.test("install without --binary, staging with --root, prints the build: scripts/compile.sh for the config and folder the unit runs the agent with, in the unit's environment, writing the staged binary", async () => {
  await withStage(async ({ root, uninstall }) => {
    const deno = await writeFakeDeno(outside(root));
    const { code, stdout, stderr } = await installBuilding(root, deno);
    assert.equal(code, 0, stderr);

    const wouldRun = stdout.split("\n").filter((line) =>
      line.startsWith("would run: ")
    ).map((line) => line.split(" ")[2]);
    assert.deepEqual(wouldRun, [
      "groupadd",
      "useradd",
      "chown",
      "env",
      "systemctl",
      "systemctl",
      "systemctl",
      "systemctl",
    ]);
    const words = buildCommand(stdout);
    assert.deepEqual(words.slice(0, 2), ["env", "-i"]);
    const assignments = new Map(
      words.slice(2, 6).map((word) => [
        word.slice(0, word.indexOf("=")),
        word.slice(word.indexOf("=") + 1),
      ]),
    );
    assert.deepEqual([...assignments.keys()], [
      "PATH",
      "HOME",
      "AWS_TOKEN",
      "DENO_DIR",
    ]);
    // The unit's environment: its Environment= lines, and HOME from the
    // account useradd makes for it.
    const unit = parseUnitFile(
      await Deno.readTextFile(systemdPath("awssmaagent.service")),
    );
    for (const line of unitValues(unit, "Service", "Environment")) {
      const [name, value] = [
        line.slice(0, line.indexOf("=")),
        line.slice(line.indexOf("=") + 1),
      ];
      assert.equal(assignments.get(name), value, name);
    }
    assert.match(
      stdout,
      new RegExp(`useradd .*--home-dir ${assignments.get("HOME")} `),
    );
    assert.equal(assignments.get("HOME"), AGENT_DIR);
    assert.ok(assignments.get("PATH")!.startsWith(`${deno.folder}:`));
    assert.equal(assignments.get("DENO_DIR"), await cacheDir());
    const [workingDir] = unitValues(unit, "Service", "WorkingDirectory");
    const [execStart] = unitValues(unit, "Service", "ExecStart");
    const [program, , config] = execStart.split(" ");
    assert.deepEqual(words.slice(6), [
      "sh",
      COMPILE_SCRIPT,
      "--config",
      config,
      "--working-dir",
      workingDir,
      "--output",
      `${root}${program}`,
    ]);

    // Staging builds nothing, so no binary is staged or listed.
    assert.equal(await deno.compileArgs(), undefined);
    const manifest = await Deno.readTextFile(
      `${root}${AGENT_DIR}/.install-manifest`,
    );
    assert.doesNotMatch(manifest, /aws_secretsmanager_agent/);
    assert.equal((await uninstall()).code, 0);
    assert.deepEqual([...Deno.readDirSync(root)], []);
  });
});

Deno.test("the printed build, run against the staged tree, bakes the grants of the kept config and the unit's environment, none of the caller's", async () => {
  await withStage(async ({ root }) => {
    await Deno.mkdir(`${root}${AGENT_DIR}`, { recursive: true });
    await Deno.writeTextFile(
      `${root}${AGENT_DIR}/config.toml`,
      "http_port = 2999\n",
    );
    const deno = await writeFakeDeno(outside(root));
    const installed = await installBuilding(root, deno);
    assert.equal(installed.code, 0, installed.stderr);

    // The runtime paths, moved into the staged tree.
    const staged = `${root}${AGENT_DIR}`;
    const [program, ...args] = buildCommand(installed.stdout).map((word) =>
      word.replace(
        /^((?:[A-Z_]+=)?)\/opt\/aws\/secretsmanageragent/,
        `$1${staged}`,
      )
    );
    const built = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(built.stderr);
    assert.equal(built.code, 0, stderr);
    assert.match(stderr, /baking these grants/);

    const baked = await deno.compileArgs();
    assert.ok(baked, "deno compile did not run");
    assert.ok(baked.includes("--no-prompt"));
    assert.deepEqual(grantList(baked, "--allow-read"), [
      `${staged}/config.toml`,
      "/var/run/awssmatoken",
      `${staged}/logs`,
      `${staged}/.aws/config`,
      `${staged}/.aws/credentials`,
    ]);
    assert.deepEqual(grantList(baked, "--allow-write"), [`${staged}/logs`]);
    const net = grantList(baked, "--allow-net") ?? [];
    assert.equal(net[0], "127.0.0.1:2999");
    // The caller's AWS_REGION and keys stayed out: every region's hosts, and
    // instance metadata for credentials, as on a host with neither.
    assert.ok(net.includes("secretsmanager.us-east-1.amazonaws.com:443"));
    assert.ok(net.includes("secretsmanager.eu-west-1.amazonaws.com:443"));
    assert.ok(net.includes("169.254.169.254:80"));
    assert.deepEqual(baked.slice(-3), [
      "--output",
      `${staged}/bin/aws_secretsmanager_agent`,
      MAIN_TS,
    ]);
  });
});

Deno.test("install without --binary stops with one line when deno is not on PATH, changing nothing; with --binary it needs no deno", async () => {
  await withStage(async ({ root, binary }) => {
    // A PATH with bash on it and nothing else.
    const onlyBash = `${outside(root)}/only-bash`;
    await Deno.mkdir(onlyBash);
    await Deno.symlink(await bashPath(), `${onlyBash}/bash`);
    const { code, stderr } = await runScript(INSTALL, ["--root", root], {
      env: { PATH: onlyBash },
    });
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^install: error: deno is not on PATH: .*--binary PATH\n$/,
    );
    assert.deepEqual([...Deno.readDirSync(root)], []);

    const prebuilt = await runScript(
      INSTALL,
      ["--root", root, "--binary", binary],
      { env: { PATH: onlyBash } },
    );
    assert.equal(prebuilt.code, 0, prebuilt.stderr);
    assert.equal(
      await Deno.readTextFile(
        `${root}${AGENT_DIR}/bin/aws_secretsmanager_agent`,
      ),
      await Deno.readTextFile(binary),
    );
  });
});

Deno.test("uninstall removes exactly what install added, logs included, and leaves files that were there before", async () => {
  await withStage(async ({ root, install, uninstall }) => {
    await addPreexistingFiles(root);
    const before = await snapshot(root);

    assert.equal((await install()).code, 0);
    // What the running agent would have written.
    await Deno.writeTextFile(
      `${root}${AGENT_DIR}/logs/secrets_manager_agent.log`,
      "started\n",
    );
    const result = await uninstall();
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await snapshot(root), before);
    assert.match(result.stdout, /would run: userdel awssmauser/);
    assert.match(result.stdout, /would run: groupdel awssmatokenreader/);
    assert.match(
      result.stdout,
      /would run: systemctl disable --now awssmaagent.service awssmaseedtoken.service/,
    );
  });
});

Deno.test("uninstall of an install into an empty root leaves the root empty", async () => {
  await withStage(async ({ root, install, uninstall }) => {
    assert.equal((await install()).code, 0);
    assert.equal((await uninstall()).code, 0);
    assert.deepEqual([...Deno.readDirSync(root)], []);
  });
});

Deno.test("install keeps a config.toml that was there before, and uninstall leaves it", async () => {
  await withStage(async ({ root, install, uninstall }) => {
    await Deno.mkdir(`${root}${AGENT_DIR}`, { recursive: true });
    await Deno.writeTextFile(
      `${root}${AGENT_DIR}/config.toml`,
      "ttl_seconds = 60\n",
    );
    const before = await snapshot(root);

    const installed = await install();
    assert.equal(installed.code, 0);
    assert.match(installed.stdout, /keeping the existing/);
    assert.equal(
      await Deno.readTextFile(`${root}${AGENT_DIR}/config.toml`),
      "ttl_seconds = 60\n",
    );
    assert.equal((await uninstall()).code, 0);
    assert.deepEqual(await snapshot(root), before);
  });
});

Deno.test("a second install upgrades the binary and keeps the edited config; uninstall still removes everything", async () => {
  await withStage(async ({ root, binary, install, uninstall }) => {
    assert.equal((await install()).code, 0);
    await Deno.writeTextFile(
      `${root}${AGENT_DIR}/config.toml`,
      "cache_size = 5\n",
    );
    await Deno.writeTextFile(binary, "fake agent binary, version 2\n");

    const again = await install();
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      await Deno.readTextFile(
        `${root}${AGENT_DIR}/bin/aws_secretsmanager_agent`,
      ),
      "fake agent binary, version 2\n",
    );
    assert.equal(
      await Deno.readTextFile(`${root}${AGENT_DIR}/config.toml`),
      "cache_size = 5\n",
    );
    const manifest = (await Deno.readTextFile(
      `${root}${AGENT_DIR}/.install-manifest`,
    )).trim().split("\n");
    assert.equal(new Set(manifest).size, manifest.length);
    assert.ok(manifest.includes(`file ${AGENT_DIR}/config.toml`));

    assert.equal((await uninstall()).code, 0);
    assert.deepEqual([...Deno.readDirSync(root)], []);
  });
});

Deno.test("uninstall --keep-user and --keep-logs keep the account and the logs", async () => {
  await withStage(async ({ root, install, uninstall }) => {
    assert.equal((await install()).code, 0);
    const log = `${root}${AGENT_DIR}/logs/secrets_manager_agent.log`;
    await Deno.writeTextFile(log, "started\n");

    const result = await uninstall("--keep-user", "--keep-logs");
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /userdel|groupdel/);
    assert.match(result.stdout, /keeping user awssmauser/);
    assert.match(result.stdout, /keeping group awssmatokenreader/);
    assert.equal(await Deno.readTextFile(log), "started\n");
    assert.deepEqual(
      [...(await snapshot(root)).keys()].sort(),
      [
        "/opt",
        "/opt/aws",
        "/opt/aws/secretsmanageragent",
        "/opt/aws/secretsmanageragent/logs",
        "/opt/aws/secretsmanageragent/logs/secrets_manager_agent.log",
      ],
    );
  });
});

Deno.test("uninstall refuses a manifest entry that install never writes, and removes nothing", async () => {
  await withStage(async ({ root, install, uninstall }) => {
    assert.equal((await install()).code, 0);
    await Deno.mkdir(`${root}/etc/keep`, { recursive: true });
    await Deno.writeTextFile(`${root}/etc/keep/passwd`, "root:x:0:0\n");
    await Deno.writeTextFile(
      `${root}${AGENT_DIR}/.install-manifest`,
      "file /etc/keep/passwd\n",
      { append: true },
    );
    const before = await snapshot(root);

    const result = await uninstall();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /refusing to uninstall: unexpected manifest entry 'file \/etc\/keep\/passwd'/,
    );
    assert.deepEqual(await snapshot(root), before);
  });
});

Deno.test("install and uninstall reject bad arguments with a message and exit 1, changing nothing", async () => {
  await withStage(async ({ root, binary }) => {
    const empty = `${root}.empty`;
    await Deno.writeTextFile(empty, "");
    try {
      const cases: [string, string[], RegExp][] = [
        [INSTALL, ["--root", root, "--bogus"], /unknown argument: --bogus/],
        [INSTALL, ["--root", root, "--binary"], /--binary needs a value/],
        [INSTALL, ["--binary", binary, "--root"], /--root needs a value/],
        [
          INSTALL,
          ["--root", root, "--binary", `${root}.absent`],
          /cannot read the agent binary/,
        ],
        [INSTALL, ["--root", root, "--binary", empty], /is empty/],
        [
          INSTALL,
          ["--root", `${root}/absent`, "--binary", binary],
          /not a directory/,
        ],
        [INSTALL, ["--root", "/", "--binary", binary], /run without --root/],
        [UNINSTALL, ["--root", root, "--keep"], /unknown argument: --keep/],
        [UNINSTALL, ["--root"], /--root needs a directory/],
        [UNINSTALL, ["--root", root], /no install manifest/],
      ];
      for (const [script, args, message] of cases) {
        const { code, stderr } = await runScript(script, args);
        assert.equal(code, 1, `${script} ${args.join(" ")}`);
        assert.match(stderr, message);
      }
      assert.deepEqual([...Deno.readDirSync(root)], []);
    } finally {
      await Deno.remove(empty);
    }
  });
});

const CAN_DROP_ROOT = Deno.uid() === 0 &&
  new Deno.Command("bash", { args: ["-c", "command -v setpriv"] })
    .outputSync().success;

const CANNOT_RUN_UNPRIVILEGED = Deno.uid() === 0 && !CAN_DROP_ROOT;
if (CANNOT_RUN_UNPRIVILEGED) {
  console.log("skipping the non-root check: running as root without setpriv");
}

Deno.test({
  name:
    "install and uninstall refuse to change the machine when not run as root",
  ignore: CANNOT_RUN_UNPRIVILEGED,
  fn: async () => {
    // nobody cannot enter a 0700 checkout (a clean clone under mktemp -d),
    // so the scripts run from a copy every user can read.
    const readable = await Deno.makeTempDir();
    await Deno.chmod(readable, 0o755);
    for (const name of ["install", "uninstall", "common.sh"]) {
      await Deno.copyFile(installPath(name), `${readable}/${name}`);
      await Deno.chmod(`${readable}/${name}`, 0o755);
    }
    for (const name of ["install", "uninstall"]) {
      const script = `${readable}/${name}`;
      // As root, drop to nobody with setpriv; otherwise run as we are.
      const command = CAN_DROP_ROOT
        ? new Deno.Command("setpriv", {
          args: [
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "bash",
            script,
          ],
        })
        : new Deno.Command("bash", { args: [script] });
      const { code, stderr } = await command.output();
      assert.equal(code, 1);
      assert.match(
        new TextDecoder().decode(stderr),
        /must be run as root \(or give --root DIR/,
      );
    }
    await Deno.remove(readable, { recursive: true });
  },
});

Deno.test("the installed config means the defaults, and each commented line is a valid setting showing its default", async () => {
  const text = await Deno.readTextFile(installPath("config.toml"));
  assert.deepEqual(parseConfig(text), DEFAULT_CONFIG);

  const uncommented = text.replace(/^# (\[\[file\]\]$|[a-z_]+ =)/gm, "$1");
  const settings = uncommented.split("\n").filter((line) =>
    /^[a-z_]+ =/.test(line)
  );
  // 28 keys, and the 5 of the [[file]] example.
  assert.equal(settings.length, 33);
  // region, credentials_file_path, unix_socket_path and the [[file]] entry
  // have no default value to show: examples.
  const config = parseConfig(uncommented);
  assert.deepEqual(config.files, [{
    secretId: "prod/db",
    path: "/run/secrets/db_password",
    jsonKey: "password",
    versionStage: "AWSCURRENT",
    mode: 0o600,
  }]);
  assert.deepEqual(
    {
      ...config,
      region: undefined,
      credentialsFilePath: undefined,
      unixSocketPath: undefined,
      files: [],
    },
    { ...DEFAULT_CONFIG },
  );
});

Deno.test("the sidecar and Lambda configs are valid and log to stdout/stderr", async () => {
  for (const name of ["sidecar-config.toml", "lambda/config.toml"]) {
    const config = parseConfig(await Deno.readTextFile(installPath(name)));
    assert.deepEqual(config, { ...DEFAULT_CONFIG, logToFile: false }, name);
  }
});
