import assert from "node:assert/strict";
import { installPath, runScript, systemdPath } from "../support/run_script.ts";
import { parseUnitFile, unitValues } from "../support/unit_file.ts";
import { computeGrants, readDeployment } from "../../src/sandbox/mod.ts";

const AGENT_UNIT = parseUnitFile(
  await Deno.readTextFile(systemdPath("awssmaagent.service")),
);
const TOKEN_UNIT = parseUnitFile(
  await Deno.readTextFile(systemdPath("awssmaseedtoken.service")),
);
const SEED_SCRIPT = installPath("awssmaseedtoken");
const AGENT_DIR = "/opt/aws/secretsmanageragent";
const TOKEN_FILE = "/var/run/awssmatoken";

function service(unit: typeof AGENT_UNIT, key: string): readonly string[] {
  return unitValues(unit, "Service", key);
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("bash", { args: ["-c", `command -v ${name}`] })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("agent unit sets every hardening option", () => {
  const expected: Record<string, string> = {
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    PrivateDevices: "yes",
    ReadWritePaths: `${AGENT_DIR}/logs`,
    CapabilityBoundingSet: "",
    AmbientCapabilities: "",
    RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
    ProtectKernelTunables: "yes",
    ProtectKernelModules: "yes",
    ProtectKernelLogs: "yes",
    ProtectControlGroups: "yes",
    RestrictNamespaces: "yes",
    LockPersonality: "yes",
    RestrictRealtime: "yes",
    RestrictSUIDSGID: "yes",
    SystemCallArchitectures: "native",
    UMask: "0077",
  };
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(service(AGENT_UNIT, key), [value], key);
  }
});

Deno.test("agent unit leaves MemoryDenyWriteExecute unset, since V8's JIT needs it", () => {
  assert.deepEqual(service(AGENT_UNIT, "MemoryDenyWriteExecute"), []);
});

Deno.test("agent unit runs the installed binary with its config as awssmauser, reading the seeded token", () => {
  assert.deepEqual(service(AGENT_UNIT, "ExecStart"), [
    `${AGENT_DIR}/bin/aws_secretsmanager_agent --config ${AGENT_DIR}/config.toml`,
  ]);
  assert.deepEqual(service(AGENT_UNIT, "User"), ["awssmauser"]);
  assert.deepEqual(service(AGENT_UNIT, "SupplementaryGroups"), [
    "awssmatokenreader",
  ]);
  assert.deepEqual(service(AGENT_UNIT, "WorkingDirectory"), [AGENT_DIR]);
  assert.deepEqual(service(AGENT_UNIT, "Environment"), [
    `AWS_TOKEN=file://${TOKEN_FILE}`,
  ]);
  assert.deepEqual(service(AGENT_UNIT, "UnsetEnvironment"), [
    "DENO_SERVE_ADDRESS",
  ]);
  assert.deepEqual(service(AGENT_UNIT, "Restart"), ["on-failure"]);
  assert.deepEqual(unitValues(AGENT_UNIT, "Unit", "Requires"), [
    "awssmaseedtoken.service",
  ]);
  assert.ok(
    unitValues(AGENT_UNIT, "Unit", "After").join(" ").split(" ").includes(
      "awssmaseedtoken.service",
    ),
  );
  assert.deepEqual(unitValues(AGENT_UNIT, "Install", "WantedBy"), [
    "multi-user.target",
  ]);
});

Deno.test("agent unit makes the folder of the Unix socket install/config.toml suggests, and the grants computed for that config name the socket", async () => {
  const suggested = /^# unix_socket_path = "([^"]+)"/m.exec(
    await Deno.readTextFile(installPath("config.toml")),
  )?.[1];
  assert.equal(suggested, "/run/awssmaagent/agent.sock");
  const folder = suggested.slice(0, suggested.lastIndexOf("/"));
  assert.deepEqual(service(AGENT_UNIT, "RuntimeDirectory"), [
    folder.slice("/run/".length),
  ]);
  assert.deepEqual(service(AGENT_UNIT, "RuntimeDirectoryMode"), ["0750"]);

  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/config.toml`;
    await Deno.writeTextFile(config, `unix_socket_path = "${suggested}"\n`);
    const grants = computeGrants(
      await readDeployment(config, {
        env: { HOME: AGENT_DIR, AWS_TOKEN: `file://${TOKEN_FILE}` },
        workingDirectory: AGENT_DIR,
      }),
    );
    const net = grants.net.map((grant) => grant.value);
    assert.ok(net.includes(`unix:${suggested}`), net.join(","));
    assert.ok(
      grants.read.every((grant) =>
        !grant.value.startsWith(`${folder}/`) ||
        grant.value.startsWith(suggested)
      ),
      "the grants reach other files in the socket's folder",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token unit seeds at start and clears at stop, at the path the agent unit reads", async () => {
  assert.deepEqual(service(TOKEN_UNIT, "Type"), ["oneshot"]);
  assert.deepEqual(service(TOKEN_UNIT, "RemainAfterExit"), ["yes"]);
  assert.deepEqual(service(TOKEN_UNIT, "ExecStart"), [
    `${AGENT_DIR}/bin/awssmaseedtoken start`,
  ]);
  assert.deepEqual(service(TOKEN_UNIT, "ExecStop"), [
    `${AGENT_DIR}/bin/awssmaseedtoken stop`,
  ]);
  const script = await Deno.readTextFile(SEED_SCRIPT);
  assert.match(
    script,
    new RegExp(`^token_file="\\$\\{AWSSMA_TOKEN_FILE:-${TOKEN_FILE}\\}"$`, "m"),
  );
  assert.match(
    script,
    /^token_group="\$\{AWSSMA_TOKEN_GROUP:-awssmatokenreader\}"$/m,
  );
});

async function seed(
  args: readonly string[],
  env: Record<string, string> = {},
) {
  return await runScript(SEED_SCRIPT, args, { env });
}

Deno.test("seed script writes 64 lowercase hex characters with mode 0640, replaces them on a second run, and stop removes the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tokenFile = `${dir}/awssmatoken`;
    const first = await seed(["--token-file", tokenFile, "start"]);
    assert.equal(first.code, 0, first.stderr);
    const token = await Deno.readTextFile(tokenFile);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal((await Deno.stat(tokenFile)).mode! & 0o777, 0o640);

    const second = await seed(["start"], { AWSSMA_TOKEN_FILE: tokenFile });
    assert.equal(second.code, 0, second.stderr);
    const replaced = await Deno.readTextFile(tokenFile);
    assert.match(replaced, /^[0-9a-f]{64}$/);
    assert.notEqual(replaced, token);
    assert.equal((await Deno.stat(tokenFile)).mode! & 0o777, 0o640);
    // Only the token is left: the temporary file was renamed into place.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((entry) => entry.name),
      ["awssmatoken"],
    );

    const stop = await seed(["--token-file", tokenFile, "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function groupId(name: string): Promise<number | undefined> {
  const line = (await Deno.readTextFile("/etc/group")).split("\n")
    .find((entry) => entry.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(":")[2]);
}

const IS_ROOT = Deno.uid() === 0;
const DAEMON_GID = await groupId("daemon");
if (!IS_ROOT || DAEMON_GID === undefined) {
  console.log(
    "skipping the chgrp test: it needs root and a 'daemon' group in /etc/group",
  );
}

Deno.test({
  name: "seed script gives the token file to the token group when root",
  ignore: !IS_ROOT || DAEMON_GID === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const tokenFile = `${dir}/awssmatoken`;
      const { code, stderr } = await seed(["start"], {
        AWSSMA_TOKEN_FILE: tokenFile,
        AWSSMA_TOKEN_GROUP: "daemon",
      });
      assert.equal(code, 0, stderr);
      assert.equal(stderr, "");
      const info = await Deno.stat(tokenFile);
      assert.equal(info.gid, DAEMON_GID);
      assert.equal(info.mode! & 0o777, 0o640);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("seed script leaves the group alone and says why when the group does not exist or it is not root", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await seed(["start"], {
      AWSSMA_TOKEN_FILE: `${dir}/awssmatoken`,
      AWSSMA_TOKEN_GROUP: "no-such-group-awssma",
    });
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      IS_ROOT
        ? /group no-such-group-awssma does not exist: leaving the group of .*awssmatoken unchanged/
        : /not running as root: leaving the group/,
    );
    assert.match(
      await Deno.readTextFile(`${dir}/awssmatoken`),
      /^[0-9a-f]{64}$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("seed script rejects bad arguments and a missing directory with an error and exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], RegExp][] = [
      [[], /missing action/],
      [["restart"], /unknown argument: restart/],
      [["start", "stop"], /only one action allowed/],
      [["--token-file"], /--token-file needs a path/],
      [["--token-file", "relative/token", "start"], /must be absolute/],
      [
        ["--token-file", `${dir}/absent/token`, "start"],
        /token directory does not exist/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await seed(args);
      assert.equal(code, 1, args.join(" "));
      assert.match(stderr, message);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// systemd-analyze verify, against an install staged by install/install into
// a temporary root that also holds this machine's system units (for
// sysinit.target and friends). It checks every setting and that ExecStart
// points at an executable in that root.
const HAS_SYSTEMD_ANALYZE = hasCommand("systemd-analyze");
const SYSTEM_UNITS = "/usr/lib/systemd/system";
if (!HAS_SYSTEMD_ANALYZE) {
  console.log(
    "skipping systemd-analyze verify: systemd-analyze is not installed",
  );
}

async function stagedRoot(): Promise<string> {
  const root = await Deno.makeTempDir();
  const binary = `${root}.agent`;
  await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n");
  const install = await runScript(installPath("install"), [
    "--root",
    root,
    "--binary",
    binary,
  ]);
  await Deno.remove(binary);
  assert.equal(install.code, 0, install.stderr);
  await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
  const copy = await new Deno.Command("cp", {
    args: ["-a", SYSTEM_UNITS, `${root}/usr/lib/systemd/`],
  }).output();
  assert.equal(copy.code, 0, new TextDecoder().decode(copy.stderr));
  return root;
}

async function verify(root: string, units: readonly string[]) {
  const { code, stderr } = await new Deno.Command("systemd-analyze", {
    args: [
      "verify",
      "--man=no",
      `--root=${root}`,
      ...units.map((unit) => `${root}/etc/systemd/system/${unit}`),
    ],
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test({
  name: "systemd-analyze verify accepts both installed units without a warning",
  ignore: !HAS_SYSTEMD_ANALYZE,
  fn: async () => {
    const root = await stagedRoot();
    try {
      const { code, stderr } = await verify(root, [
        "awssmaseedtoken.service",
        "awssmaagent.service",
      ]);
      assert.equal(stderr, "");
      assert.equal(code, 0);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "systemd-analyze verify, as used above, reports a bad setting and a missing binary",
  ignore: !HAS_SYSTEMD_ANALYZE,
  fn: async () => {
    const root = await stagedRoot();
    try {
      const unitPath = `${root}/etc/systemd/system/awssmaagent.service`;
      const text = await Deno.readTextFile(unitPath);
      await Deno.writeTextFile(
        `${root}/etc/systemd/system/broken.service`,
        text.replace("ProtectSystem=strict", "ProtectSystem=sometimes"),
      );
      const broken = await verify(root, ["broken.service"]);
      assert.match(broken.stderr, /ProtectSystem|protect system/i);

      await Deno.remove(`${root}${AGENT_DIR}/bin/aws_secretsmanager_agent`);
      const missing = await verify(root, ["awssmaagent.service"]);
      assert.notEqual(missing.code, 0);
      assert.match(
        missing.stderr,
        /aws_secretsmanager_agent is not executable/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

// systemd >= 254 implements MemoryDenyWriteExecute=yes with
// prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) on Linux >= 6.3 (older ones
// use an equivalent seccomp filter). python3 sets it, then execs Deno.
const PR_SET_MDWE = 65;
const MDWE_RUNNER = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] == "mdwe" and libc.prctl(${PR_SET_MDWE}, 1, 0, 0, 0) != 0:
    sys.exit(77)
os.execv(sys.argv[2], sys.argv[2:])`;

function runUnderMdwe(mode: "mdwe" | "plain", args: readonly string[]) {
  return new Deno.Command("python3", {
    args: ["-c", MDWE_RUNNER, mode, Deno.execPath(), ...args],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
}

const MDWE_UNAVAILABLE = !hasCommand("python3") ||
  runUnderMdwe("mdwe", ["--version"]).code === 77;
if (MDWE_UNAVAILABLE) {
  console.log(
    "skipping the MemoryDenyWriteExecute check: needs python3 and Linux >= 6.3 (PR_SET_MDWE)",
  );
}

Deno.test({
  name:
    "Deno cannot run JavaScript under MemoryDenyWriteExecute, so the agent unit must not set it",
  ignore: MDWE_UNAVAILABLE,
  fn: () => {
    const script = ["eval", "console.log(6 * 7)"];
    const plain = runUnderMdwe("plain", script);
    assert.equal(plain.code, 0);
    assert.equal(new TextDecoder().decode(plain.stdout).trim(), "42");
    const denied = runUnderMdwe("mdwe", script);
    assert.notEqual(denied.code, 0);
    assert.doesNotMatch(new TextDecoder().decode(denied.stdout), /42/);
  },
});
