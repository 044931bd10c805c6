import assert from "node:assert/strict";
import { DEFAULT_CONFIG, parseConfig } from "../src/config.ts";
import {
  installPath,
  runScript,
  type ScriptResult,
  systemdPath,
} from "./support/run_script.ts";
import { parseUnitFile, unitValues } from "./support/unit_file.ts";

const INSTALL = installPath("install");
const UNINSTALL = installPath("uninstall");
const AGENT_DIR = "/opt/aws/secretsmanageragent";
const UNIT_DIR = "/etc/systemd/system";

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

Deno.test("install with --root prints the user, group, ownership and systemctl commands instead of running them", async () => {
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

  const uncommented = text.replace(/^# ([a-z_]+ =)/gm, "$1");
  const settings = uncommented.split("\n").filter((line) =>
    /^[a-z_]+ =/.test(line)
  );
  assert.equal(settings.length, 28);
  // region, credentials_file_path and unix_socket_path have no default value
  // to show: examples.
  assert.deepEqual(
    {
      ...parseConfig(uncommented),
      region: undefined,
      credentialsFilePath: undefined,
      unixSocketPath: undefined,
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
