// Static checks of the sidecar example: no Docker engine is available to the
// tests, so the Dockerfile and the compose file are read, not built.
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { installPath } from "../support/run_script.ts";

const DOCKERFILE = await Deno.readTextFile(installPath("Dockerfile"));
const DOCKERIGNORE = await Deno.readTextFile(
  installPath("Dockerfile.dockerignore"),
);
const COMPOSE = await Deno.readTextFile(installPath("docker-compose.yml"));
const REPO_ROOT = new URL("../../", import.meta.url).pathname;

interface Instruction {
  keyword: string;
  argument: string;
}

/** Dockerfile instructions, with continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined.split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), argument: rest.join(" ") };
    });
}

/** The lines of each service under `services:`, by service name. */
function composeServices(text: string): Map<string, string[]> {
  const services = new Map<string, string[]>();
  let inServices = false;
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    if (/^\S/.test(line)) {
      inServices = line === "services:";
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    const service = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (service) {
      current = [];
      services.set(service[1], current);
    } else {
      current?.push(line.trim());
    }
  }
  return services;
}

function setting(lines: readonly string[], key: string): string | undefined {
  const line = lines.find((entry) => entry.startsWith(`${key}:`));
  return line?.slice(key.length + 1).trim();
}

const SECRET_LOOKING = [
  /\b[0-9a-f]{64}\b/, // a seeded token
  /\bAKIA[0-9A-Z]{16}\b/, // an access key id
  /\b[A-Za-z0-9/+]{40}\b/, // a secret access key
];

Deno.test("sidecar image runs the agent as a non-root user", () => {
  const users = instructions(DOCKERFILE).filter((entry) =>
    entry.keyword === "USER"
  );
  assert.ok(users.length > 0, "no USER instruction");
  const last = users[users.length - 1].argument;
  assert.doesNotMatch(last, /^(root|0)(:|$)/);
  assert.doesNotMatch(last, /:0$/);
  const from = instructions(DOCKERFILE).filter((entry) =>
    entry.keyword === "FROM"
  );
  assert.equal(from.length, 1);
});

Deno.test("sidecar image bakes in no token, credential or region", () => {
  for (const { keyword, argument } of instructions(DOCKERFILE)) {
    if (keyword === "ENV" || keyword === "ARG") {
      assert.doesNotMatch(
        argument,
        /TOKEN|SECRET|KEY|PASSWORD|AWS_/i,
        `${keyword} ${argument}`,
      );
    }
  }
  for (const pattern of SECRET_LOOKING) {
    assert.doesNotMatch(DOCKERFILE, pattern);
    assert.doesNotMatch(COMPOSE, pattern);
  }
});

Deno.test("sidecar image copies the compiled binary and its config, and starts the agent with that config", async () => {
  const all = instructions(DOCKERFILE);
  const copies = all.filter((entry) => entry.keyword === "COPY")
    .map((entry) =>
      entry.argument.split(" ").filter((part) => !part.startsWith("--"))
    );
  assert.deepEqual(copies, [
    [
      "aws_secretsmanager_agent",
      "/opt/aws/secretsmanageragent/bin/aws_secretsmanager_agent",
    ],
    ["install/sidecar-config.toml", "/opt/aws/secretsmanageragent/config.toml"],
  ]);
  const entrypoint = all.find((entry) => entry.keyword === "ENTRYPOINT");
  assert.deepEqual(JSON.parse(entrypoint!.argument), [
    "/opt/aws/secretsmanageragent/bin/aws_secretsmanager_agent",
    "--config",
    "/opt/aws/secretsmanageragent/config.toml",
  ]);
  // The binary's name is what `deno task compile` writes by default.
  assert.match(
    await Deno.readTextFile(`${REPO_ROOT}scripts/compile.sh`),
    /\$\{output:-\$\{project\}\/aws_secretsmanager_agent\}/,
  );
  // The build context lets in exactly the two files the image copies.
  assert.deepEqual(
    DOCKERIGNORE.split("\n").filter((line) => line && !line.startsWith("#")),
    ["*", "!aws_secretsmanager_agent", "!install/sidecar-config.toml"],
  );
  const config = parse(
    await Deno.readTextFile(installPath("sidecar-config.toml")),
  );
  assert.deepEqual({ ...config }, { log_to_file: false });
});

Deno.test("compose runs the application in the agent's network namespace", () => {
  const services = composeServices(COMPOSE);
  assert.deepEqual([...services.keys()], ["agent", "app"]);
  const agent = services.get("agent")!;
  const app = services.get("app")!;
  assert.equal(setting(app, "network_mode"), '"service:agent"');
  assert.equal(setting(agent, "network_mode"), undefined);
  // The agent only listens on 127.0.0.1: publishing a port would not work
  // and must not be attempted.
  assert.equal(setting(agent, "ports"), undefined);
  assert.equal(setting(agent, "dockerfile"), "install/Dockerfile");
  assert.equal(setting(agent, "context"), "..");
});

Deno.test("compose gives the agent and the application the same token variable, never a literal", () => {
  const services = composeServices(COMPOSE);
  const tokens = ["agent", "app"].map((name) =>
    setting(services.get(name)!, "AWS_TOKEN")
  );
  assert.match(tokens[0]!, /^\$\{AWSSMA_TOKEN:\?[^}]*\}$/);
  assert.equal(tokens[1], tokens[0]);
  // Credentials are passed through from the shell, never written here.
  const agent = services.get("agent")!;
  for (
    const key of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
    ]
  ) {
    assert.equal(setting(agent, key), "", key);
  }
  // The application sends the token in the agent's SSRF header.
  assert.match(
    services.get("app")!.join("\n"),
    /X-Aws-Parameters-Secrets-Token: \$\$\{AWS_TOKEN\}/,
  );
});
