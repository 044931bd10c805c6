/**
 * The sandbox computed from the deployment: a probe run by the start script
 * in main.ts's place, under the grants it computed, is refused everything
 * outside the deployment's needs and keeps what it needs; the printed set of
 * every kind of deployment holds no wildcard and no unscoped grant.
 */

import assert from "node:assert/strict";
import {
  agentEnvironment,
  copyProject,
  freePort,
  startTaskCommand,
} from "../support/agent_process.ts";
import {
  FORBIDDEN_NET_HOSTS,
  NEEDED_NET_HOSTS,
  REMOTE_MODULES,
  type SandboxReport,
} from "../support/sandbox_probe.ts";

const PROBE = new URL("../support/sandbox_probe.ts", import.meta.url);
const PROJECT_FILES = ["deno.json", "deno.lock", "src", "scripts"];

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
    "read $HOME/.aws/other",
    "read ./deno.json",
    "read ./src/agent.ts",
    "query read /",
    "write ./config.toml",
    "write $HOME/outside.txt",
    "symlink ./logs/passwd -> /etc/passwd",
    ...FORBIDDEN_NET_HOSTS.map((host) => `query net ${host}`),
    "listen 0.0.0.0",
    "listen 127.0.0.1 on another port",
    "listen [::1]",
    "connect to another local port",
    "listen unix socket",
    ...REMOTE_MODULES.map((specifier) => `import ${specifier}`),
    "spawn true",
    "spawn /bin/sh",
    "query run",
    "request run",
    "dlopen libc",
    "query ffi",
    "env PATH",
    "env SECRET_THING",
    "env all",
    "sys hostname",
    "sys umask",
  ]),
  ...expect("granted", [
    "read ./config.toml",
    "read $HOME/.aws/credentials",
    "write ./logs/probe.txt",
    ...NEEDED_NET_HOSTS.map((host) => `query net ${host}`),
    "listen 127.0.0.1 on the agent's port",
    "env AWS_REGION",
    "env MY_TOKEN",
    "sys osRelease",
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

Deno.test("code run by the start script under the grants it computed is refused other files of the home folder, other local ports, other AWS hosts, remote code, programs, FFI and variables, and keeps what the deployment needs", async (t) => {
  const dir = await copyProject({ files: PROJECT_FILES, prefix: "sandbox-" });
  const home = await Deno.makeTempDir({ prefix: "sandbox-home-" });
  // Another local service, which the agent must not reach.
  const other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await Deno.copyFile(PROBE, `${dir}/main.ts`);
    await writeFile(`${home}/notes.txt`, "not for the agent");
    await writeFile(`${home}/.ssh/id_rsa`, "not for the agent");
    await writeFile(`${home}/.aws/other`, "not for the agent");
    await writeFile(
      `${home}/.aws/credentials`,
      "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = example\n",
    );
    await writeFile(`${home}/.aws/config`, "[default]\nregion = us-east-1\n");
    const config = `http_port = ${freePort()}\n# probe-port = ${
      (other.addr as Deno.NetAddr).port
    }\nssrf_env_variables = ["MY_TOKEN"]\n`;
    await writeFile(`${dir}/config.toml`, config);
    const [program, ...args] = await startTaskCommand();
    const { code, stdout, stderr } = await new Deno.Command(program, {
      args: [...args, "--config", "config.toml"],
      cwd: dir,
      clearEnv: true,
      env: await agentEnvironment(home, {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_REGION: "us-east-1",
        AWS_EC2_METADATA_DISABLED: undefined,
        AWS_TOKEN: undefined,
        MY_TOKEN: "probe-token",
        SECRET_THING: "must-not-leak",
      }),
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(code, 0, decoder.decode(stderr));
    const report: SandboxReport = JSON.parse(decoder.decode(stdout));
    assert.deepEqual(Object.keys(report).sort(), Object.keys(EXPECTED).sort());
    for (const [name, expected] of Object.entries(EXPECTED)) {
      await t.step(`${name}: ${expected}`, () => {
        assert.equal(report[name], expected);
      });
    }
    await t.step("refused attempts left nothing behind", async () => {
      assert.equal(await exists(`${home}/outside.txt`), false);
      assert.equal(await exists(`${dir}/logs/passwd`), false);
      assert.equal(await Deno.readTextFile(`${dir}/config.toml`), config);
      assert.equal(await Deno.readTextFile(`${dir}/logs/probe.txt`), "inside");
    });
  } finally {
    other.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// The printed set.

/** A flag that grants too much on its own, or skips a check. */
const BROAD_FLAG =
  /^(-A|--allow-all|--allow-ffi.*|--allow-import.*|-[IRWNESP].*|--allow-(read|write|net|env|sys|run)|--allow-hrtime|--unsafely-ignore-certificate-errors.*|--permission-set.*)$/;

/** The problems with one printed set, [] when none; `fileFolders` are the `[[file]]` folders. */
function printedSetProblems(
  text: string,
  logFolder: string,
  fileFolders: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  const flags = text.split("\n").filter((line) =>
    line !== "" && !line.startsWith("#")
  );
  for (const required of ["--no-prompt", "--no-remote"]) {
    if (!flags.includes(required)) problems.push(`${required} is missing`);
  }
  for (const flag of flags) {
    if (BROAD_FLAG.test(flag)) {
      problems.push(`${flag} grants too much`);
      continue;
    }
    const match = /^--allow-(read|write|net|env|sys|run)=(.+)$/.exec(flag);
    if (match === null) {
      if (!["--no-prompt", "--no-remote", "--cached-only"].includes(flag)) {
        problems.push(`${flag} is not a scoped grant`);
      }
      continue;
    }
    const [, kind, list] = match;
    for (const entry of list.split(",")) {
      if (entry.includes("*")) {
        problems.push(`${kind}: "${entry}" is a wildcard`);
      }
      if (kind === "read" || kind === "write" || kind === "run") {
        const trimmed = entry.replace(/\/+$/, "");
        if (!entry.startsWith("/") || trimmed === "" || entry.includes("..")) {
          problems.push(
            `${kind}: "${entry}" is not an absolute file or folder`,
          );
        }
      }
      if (
        kind === "write" && !entry.startsWith(logFolder) &&
        !entry.startsWith("/run/awssmaagent/") && !fileFolders.includes(entry)
      ) {
        problems.push(
          `write: "${entry}" is not the log folder, the socket or a [[file]] folder`,
        );
      }
      if (
        kind === "net" && !entry.startsWith("unix:/") && !/:\d+$/.test(entry)
      ) {
        problems.push(`net: "${entry}" carries no port`);
      }
      if (kind === "net" && /^(0\.0\.0\.0|\[::\])/.test(entry)) {
        problems.push(`net: "${entry}" is every interface`);
      }
      if (kind === "sys" && entry !== "osRelease") {
        problems.push(`sys: "${entry}" is not needed`);
      }
    }
  }
  return problems;
}

/** Deployments of every shape the grants depend on. */
const DEPLOYMENTS: readonly {
  readonly name: string;
  readonly config: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}[] = [
  {
    name: "the defaults, region from instance metadata",
    config: "",
    env: {
      AWS_REGION: undefined,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_EC2_METADATA_DISABLED: undefined,
    },
  },
  {
    name: "a region, FIPS, Parameter Store, a Unix socket",
    config:
      'region = "us-gov-west-1"\nuse_fips_endpoint = true\nparameter_store = true\nunix_socket_path = "/run/awssmaagent/agent.sock"\n',
    env: {},
  },
  {
    name: "endpoint URLs and a token file",
    config: "",
    env: {
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
      AWS_TOKEN: "file:///var/run/awssmatoken",
    },
  },
  {
    name:
      "secrets to files in a folder of their own (@dir is the project copy)",
    config:
      '[[file]]\nsecret_id = "db"\npath = "@dir/secrets/db"\n[[file]]\nsecret_id = "api"\npath = "@dir/secrets/api"\n',
    env: {},
  },
  {
    name: "container credentials, console logging",
    config: "log_to_file = false\n",
    env: {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI:
        "http://169.254.170.23/v1/credentials",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE:
        "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
    },
  },
];

Deno.test("the printed set of each kind of deployment holds no wildcard, no unscoped grant, and writes only the log folder, the socket or the [[file]] folders", async (t) => {
  const dir = await copyProject({
    files: [...PROJECT_FILES, "main.ts"],
    prefix: "sandbox-set-",
  });
  try {
    const denoJson = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
    const [program, ...args] = String(denoJson.tasks.permissions).split(/\s+/);
    assert.equal(program, "deno");
    for (const deployment of DEPLOYMENTS) {
      await t.step(deployment.name, async () => {
        await Deno.mkdir(`${dir}/secrets`, { recursive: true });
        await Deno.writeTextFile(
          `${dir}/config.toml`,
          deployment.config.replaceAll("@dir", dir),
        );
        const { code, stdout, stderr } = await new Deno.Command(
          Deno.execPath(),
          {
            args: [...args, "--config", "config.toml"],
            cwd: dir,
            clearEnv: true,
            env: await agentEnvironment(dir, deployment.env),
          },
        ).output();
        const decoder = new TextDecoder();
        assert.equal(code, 0, decoder.decode(stderr));
        const printed = decoder.decode(stdout);
        assert.deepEqual(
          printedSetProblems(printed, `${dir}/logs`, [`${dir}/secrets`]),
          [],
        );
        if (deployment.config.includes("[[file]]")) {
          assert.match(
            printed,
            new RegExp(`^--allow-write=.*${dir}/secrets(,|$)`, "m"),
          );
        }
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the printed-set checks catch each kind of broad grant", () => {
  const good =
    "# why\n--no-prompt\n--no-remote\n--allow-read=/srv/a/config.toml\n--allow-write=/srv/a/logs\n--allow-net=127.0.0.1:2773\n--allow-env=HOME\n--allow-sys=osRelease\n";
  assert.deepEqual(printedSetProblems(good, "/srv/a/logs"), []);
  const broad = [
    "-A",
    "--allow-all",
    "--allow-read",
    "--allow-run",
    "--allow-net",
    "--allow-env",
    "--allow-import=127.0.0.1",
    "--allow-ffi",
    "--allow-read=/",
    "--allow-read=./logs",
    "--allow-read=/srv/a/../..",
    "--allow-write=/tmp",
    "--allow-net=*.amazonaws.com:443",
    "--allow-net=127.0.0.1",
    "--allow-net=0.0.0.0:2773",
    "--allow-env=AWS_*",
    "--allow-sys=hostname",
    "--unsafely-ignore-certificate-errors",
  ];
  for (const flag of broad) {
    assert.equal(
      printedSetProblems(`${good}${flag}\n`, "/srv/a/logs").length,
      1,
      flag,
    );
  }
  assert.equal(printedSetProblems("--allow-net=127.0.0.1:1\n", "/x").length, 2);
  assert.equal(
    printedSetProblems(`${good}--allow-write=/srv/a/out\n`, "/srv/a/logs", [
      "/srv/a/out",
    ]).length,
    0,
  );
});

Deno.test("the start script runs the agent under the printed set only: no flag of its own grants anything", async () => {
  const script = await Deno.readTextFile(
    new URL("../../scripts/start.sh", import.meta.url),
  );
  const lines = script.split("\n").filter((line) =>
    !line.trimStart().startsWith("#")
  );
  const words = lines.join(" ").split(/\s+/);
  // The short-lived step reads files and variables, and nothing else.
  assert.ok(
    script.includes(
      `deno run --quiet --no-prompt --allow-read --allow-env "$v8" main.ts --print-permissions`,
    ),
  );
  for (const word of words) {
    assert.ok(
      !/^(-A|--allow-all|--allow-(net|write|run|ffi|sys|import)|-[NWSI])/.test(
        word,
      ),
      `start.sh grants ${word}`,
    );
  }
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  assert.equal(
    denoJson.permissions,
    undefined,
    "no permission set in deno.json: it prints an experimental warning at every start",
  );
  assert.equal(denoJson.tasks.start, "sh scripts/start.sh");
});
