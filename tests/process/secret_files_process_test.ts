/**
 * Secrets to files, end to end against the local Secrets Manager: the real
 * agent writes each `[[file]]` at start-up, rewrites it after the TTL when a
 * new version arrives and only then, keeps the last good file through an
 * upstream failure, extracts `json_key` fields, leaves no temporary file;
 * `jsonKey` on HTTP from the same agent; and the start script's grants
 * step, which lets the agent write the folder and stops on a bad one.
 */

import assert from "node:assert/strict";
import {
  agentLines,
  runAgentToExit,
  type RunningAgent,
  startAgent,
} from "../support/agent_process.ts";
import { callsFor } from "../support/agent_upstream.ts";
import {
  type SecretsManagerServer,
  withSecretsManagerServer,
} from "../support/secrets_manager_server.ts";

const ROLE = "arn:aws:iam::111111111111:role/reader";
/** Long enough for a few TTLs of 1 s on a busy machine; the loops end as soon as they can. */
const WAIT_LIMIT_MS = 15_000;

/** Polls `check` until it returns a value other than undefined, or fails saying what did not happen. */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  agent: RunningAgent,
): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const log = (await agent.logText()).trimEnd().split("\n").slice(-10);
      assert.fail(
        `${what}: not within ${WAIT_LIMIT_MS} ms; last log lines:\n${
          log.join("\n")
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function textOf(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** What identifies one write: a rename brings a new inode, and a new mtime. */
async function identity(path: string): Promise<string> {
  const info = await Deno.lstat(path);
  return `${info.ino}@${info.mtime?.getTime()}`;
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map(({ name }) => name)
    .sort();
}

function modeOf(info: Deno.FileInfo): number {
  return (info.mode ?? 0) & 0o7777;
}

const DB_V1 = '{"username":"app","password":"pw-1"}';
const DB_V2 = '{"username":"app","password":"pw-2"}';
const DB_V3 = '{"username":"other","password":"pw-2"}';
const DB_V4 = '{"username":"other","password":"pw-4"}';

function config(out: string): string {
  return `ttl_seconds = 1
allow_role_arn = true

[[file]]
secret_id = "files/db"
path = "${out}/db.json"

[[file]]
secret_id = "files/db"
json_key = "password"
path = "${out}/password"
mode = "0640"

[[file]]
secret_id = "files/blob"
path = "${out}/blob.bin"

[[file]]
secret_id = "files/blob"
json_key = "password"
path = "${out}/never"

[[file]]
secret_id = "files/db"
role_arn = "${ROLE}"
path = "${out}/role-db.json"
`;
}

Deno.test("[[file]] secrets are written at start, rewritten after the TTL for a new version only, kept through an upstream failure, and jsonKey answers on HTTP", async (t) => {
  await withSecretsManagerServer(async (server: SecretsManagerServer) => {
    server.createSecret("files/db", DB_V1);
    server.createSecret("files/blob", new Uint8Array([0, 1, 0xfe, 0xff]));
    server.createSecret("files/plain", "not json");
    const out = await Deno.makeTempDir({ prefix: "agent-files-" });
    try {
      await using agent = await startAgent({
        endpoint: server.url,
        config: config(out),
      });
      const db = `${out}/db.json`;
      const password = `${out}/password`;

      await t.step(
        "each file is written at start-up, with its mode",
        async () => {
          await waitFor("db.json written", () => textOf(db), agent);
          await waitFor("password written", () => textOf(password), agent);
          await waitFor(
            "blob.bin written",
            () => textOf(`${out}/blob.bin`),
            agent,
          );
          await waitFor(
            "role-db.json written",
            () => textOf(`${out}/role-db.json`),
            agent,
          );
          assert.equal(await Deno.readTextFile(db), DB_V1);
          assert.equal(await Deno.readTextFile(password), "pw-1");
          assert.deepEqual(
            [...await Deno.readFile(`${out}/blob.bin`)],
            [0, 1, 0xfe, 0xff],
          );
          assert.equal(await Deno.readTextFile(`${out}/role-db.json`), DB_V1);
          assert.equal(modeOf(await Deno.lstat(db)), 0o600);
          assert.equal(modeOf(await Deno.lstat(password)), 0o640);
          assert.equal(modeOf(await Deno.lstat(`${out}/blob.bin`)), 0o600);
          assert.ok(
            server.calls().some((call) =>
              call.operation === "GetSecretValue" && call.roleArn === ROLE
            ),
            "role_arn reads with the role's credentials",
          );
        },
      );

      await t.step(
        "json_key on a binary secret is one ERROR line and no file",
        async () => {
          const line = await waitFor(
            "the json_key error",
            async () =>
              (await agent.logText()).split("\n").find((each) =>
                each.includes(`File ${out}/never:`)
              ),
            agent,
          );
          assert.match(
            line,
            /ERROR File .*\/never: json_key needs a JSON object in SecretString; the secret is binary \(secret files\/blob, version [^)]+\); the file is not written$/,
          );
          assert.deepEqual(await names(out), [
            "blob.bin",
            "db.json",
            "password",
            "role-db.json",
          ]);
        },
      );

      await t.step(
        "an unchanged version is not written again across renewals",
        async () => {
          const before = await identity(db);
          const describes = callsFor(server, "DescribeSecret", "files/db");
          await waitFor(
            "two renewals of files/db",
            () =>
              callsFor(server, "DescribeSecret", "files/db") >= describes + 2
                ? true
                : undefined,
            agent,
          );
          assert.equal(await identity(db), before);
          const writes = (await agent.logText()).split("\n").filter((line) =>
            line.includes(`to ${db}`)
          );
          assert.equal(writes.length, 1, writes.join("\n"));
        },
      );

      await t.step("a new version is written after the TTL", async () => {
        const before = await identity(password);
        server.putSecretValue("files/db", DB_V2);
        await waitFor(
          "db.json rewritten",
          async () => (await textOf(db)) === DB_V2 ? true : undefined,
          agent,
        );
        await waitFor(
          "password rewritten",
          async () => (await textOf(password)) === "pw-2" ? true : undefined,
          agent,
        );
        assert.notEqual(await identity(password), before);
        assert.equal(modeOf(await Deno.lstat(password)), 0o640);
      });

      await t.step(
        "a new version whose json_key field is the same leaves that file alone",
        async () => {
          const before = await identity(password);
          server.putSecretValue("files/db", DB_V3);
          await waitFor(
            "db.json rewritten",
            async () => (await textOf(db)) === DB_V3 ? true : undefined,
            agent,
          );
          // The password entry polls the same cache entry every TTL: two
          // renewals later it has seen the new version too.
          const renewals = () =>
            server.calls().filter((call) =>
              call.operation === "DescribeSecret" &&
              call.secretId === "files/db" && call.roleArn === undefined
            ).length;
          const seen = renewals();
          await waitFor(
            "two more renewals",
            () => renewals() >= seen + 2 ? true : undefined,
            agent,
          );
          assert.equal(await identity(password), before);
        },
      );

      await t.step(
        "an upstream failure keeps the last good file; the agent recovers when it clears",
        async () => {
          const before = await identity(db);
          // Access denied: an error the cache passes on (throttling or a
          // 5xx would be ridden out with the cached value instead).
          server.setFault({ kind: "denied" });
          const failed = new RegExp(
            `File ${db}: could not get secret files/db: AccessDeniedException \\(400\\); the file is left as it is`,
          );
          await waitFor(
            "a failed refresh logged",
            async () => failed.test(await agent.logText()) ? true : undefined,
            agent,
          );
          assert.equal(await identity(db), before);
          assert.equal(await Deno.readTextFile(db), DB_V3);
          server.setFault(undefined);
          server.putSecretValue("files/db", DB_V4);
          await waitFor(
            "db.json rewritten after the failure",
            async () => (await textOf(db)) === DB_V4 ? true : undefined,
            agent,
          );
          await waitFor(
            "password rewritten after the failure",
            async () => (await textOf(password)) === "pw-4" ? true : undefined,
            agent,
          );
        },
      );

      await t.step(
        "jsonKey answers the field in the GetSecretValue shape, and 400 when there is none",
        async () => {
          const field = await agent.get(
            "/secretsmanager/get?secretId=files%2Fdb&jsonKey=password",
          );
          assert.equal(field.status, 200, field.body);
          const body = JSON.parse(field.body);
          assert.equal(body.SecretString, "pw-4");
          assert.equal(body.Name, "files/db");
          assert.ok(body.VersionId && body.ARN && body.VersionStages);
          const cases: [string, string][] = [
            [
              "/v1/files%2Fplain?jsonKey=password",
              "jsonKey needs a JSON object in SecretString; the secret's is not one",
            ],
            [
              "/v1/files%2Fblob?jsonKey=password",
              "jsonKey needs a JSON object in SecretString; the secret is binary",
            ],
            [
              "/v1/files%2Fdb?jsonKey=pass",
              "jsonKey not in the secret's JSON: pass",
            ],
          ];
          for (const [path, message] of cases) {
            const answer = await agent.get(path);
            assert.equal(answer.status, 400, path);
            assert.equal(answer.body, message, path);
          }
        },
      );

      await t.step(
        "SIGTERM stops the agent with no temporary file left",
        async () => {
          const exit = await agent.stop("SIGTERM");
          assert.equal(exit.code, 0, exit.stderr);
          assert.deepEqual(await names(out), [
            "blob.bin",
            "db.json",
            "password",
            "role-db.json",
          ]);
        },
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
});

Deno.test("through the start script, the agent under its computed grants writes a [[file]]; a destination folder that does not exist stops start-up with one line", async () => {
  await withSecretsManagerServer(async (server) => {
    server.createSecret("files/db", "from-the-sandbox");
    const out = await Deno.makeTempDir({ prefix: "agent-files-" });
    try {
      {
        await using agent = await startAgent({
          endpoint: server.url,
          config: `[[file]]\nsecret_id = "files/db"\npath = "${out}/db"\n`,
          viaStartScript: true,
        });
        await waitFor("the file written", () => textOf(`${out}/db`), agent);
        assert.equal(await Deno.readTextFile(`${out}/db`), "from-the-sandbox");
        assert.deepEqual(await names(out), ["db"]);
      }
      const exit = await runAgentToExit({
        endpoint: server.url,
        config: `[[file]]\nsecret_id = "files/db"\npath = "${out}/absent/db"\n`,
        viaStartScript: true,
      });
      assert.equal(exit.code, 1, exit.stderr);
      assert.deepEqual(agentLines(exit.stderr), [
        `Cannot grant write access to ${out}/absent for the [[file]] path ${out}/absent/db: the folder does not exist. Create it (owned by the agent's user), or write the file elsewhere.`,
      ]);
      assert.equal(exit.stdout, "", "the agent never ran");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
});
