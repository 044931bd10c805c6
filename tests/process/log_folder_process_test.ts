/**
 * The log folder against a local user who prepared it beforehand: a folder
 * others may write to (or another user owns) is refused at start-up with one
 * line, a link where a log or temporary file should be is never written
 * through, and a folder only wider to read is set to 0700. Deno does not
 * resolve links inside a granted folder, so the sandbox alone would let a
 * planted link send a rotation's write anywhere the agent's user may write.
 */

import assert from "node:assert/strict";
import { agentLines } from "../support/agent_process.ts";
import {
  type PreparedRun,
  runAgentInPreparedFolder,
} from "../support/agent_in_prepared_folder.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";

const LOG = "logs/secrets_manager_agent.log";
/** The first archive's temporary name: where compression writes first. */
const TEMPORARY = "logs/archive/secrets_manager_agent.log.1.gz.tmp";
/** A file outside the log folder: the sandbox grants no write to it. */
const OUTSIDE = "outside.txt";
const OUTSIDE_TEXT = "must stay as it is\n";
const IS_ROOT = Deno.uid() === 0;

/** A log one byte short of 10 MiB: the first line the agent logs rotates it. */
function fullLog(): string {
  return `${"x".repeat(10 * 1024 * 1024 - 2)}\n`;
}

function explain(run: PreparedRun): string {
  return `started: ${run.started}, exit ${run.exit.code}\nstderr: ${run.exit.stderr}\nstdout: ${run.exit.stdout}`;
}

/** Plants OUTSIDE and a link to it at `linkPath`. */
function plantLink(dir: string, linkPath: string): void {
  Deno.writeTextFileSync(`${dir}/${OUTSIDE}`, OUTSIDE_TEXT);
  Deno.symlinkSync(`${dir}/${OUTSIDE}`, `${dir}/${linkPath}`);
}

/** Waits (bounded) until `isDone` holds. */
async function until(isDone: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !isDone(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(isDone(), `timed out waiting for ${what}`);
}

/** Asserts OUTSIDE kept its text, without printing what overwrote it. */
function assertOutsideUntouched(dir: string): void {
  const text = Deno.readTextFileSync(`${dir}/${OUTSIDE}`);
  assert.ok(
    text === OUTSIDE_TEXT,
    `the file outside the log folder was overwritten (${text.length} characters now)`,
  );
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("a log folder others may write to, with a link planted at the temporary archive name, is refused at start-up with one line, and the file outside is untouched", async () => {
  const run = await runAgentInPreparedFolder({
    prepare(dir) {
      Deno.mkdirSync(`${dir}/logs/archive`, { recursive: true });
      Deno.chmodSync(`${dir}/logs`, 0o777);
      Deno.writeTextFileSync(`${dir}/${LOG}`, fullLog());
      plantLink(dir, TEMPORARY);
    },
    // The unchanged agent starts: give its compression time to write.
    whileRunning: ({ dir }) =>
      until(
        () => exists(`${dir}/logs/archive/secrets_manager_agent.log.1.gz`),
        "the first archive",
      ),
    inspect(dir) {
      assertOutsideUntouched(dir);
    },
  });
  assert.equal(run.started, false, explain(run));
  assert.equal(run.exit.code, 1, explain(run));
  assert.deepEqual(agentLines(run.exit.stderr), [
    "Cannot open the log file in ./logs: the log folder ./logs is writable by other users (mode 0777), who may have planted links in it: check what it holds, then chmod 700 ./logs",
  ]);
});

Deno.test("a link planted at the temporary archive name in the agent's own folder is not written through: compression refuses it, the archive is kept plain", async () => {
  const server = await startSecretsManagerServer();
  try {
    const run = await runAgentInPreparedFolder({
      endpoint: server.url,
      prepare(dir) {
        Deno.mkdirSync(`${dir}/logs/archive`, { recursive: true, mode: 0o700 });
        Deno.chmodSync(`${dir}/logs`, 0o700);
        Deno.chmodSync(`${dir}/logs/archive`, 0o700);
        Deno.writeTextFileSync(`${dir}/${LOG}`, fullLog());
        plantLink(dir, TEMPORARY);
      },
      whileRunning: ({ dir, stderr }) =>
        until(
          () =>
            /cannot compress/.test(stderr()) ||
            exists(`${dir}/logs/archive/secrets_manager_agent.log.1.gz`),
          "the compression of the first archive",
        ),
      inspect(dir) {
        assertOutsideUntouched(dir);
        assert.ok(Deno.lstatSync(`${dir}/${TEMPORARY}`).isSymlink);
        assert.equal(
          Deno.statSync(`${dir}/logs/archive/secrets_manager_agent.log.1`)
            .size,
          10 * 1024 * 1024 - 1,
        );
      },
    });
    assert.equal(run.started, true, explain(run));
    assert.equal(run.exit.code, 0, explain(run));
    assert.deepEqual(agentLines(run.exit.stderr), [
      "Logging: cannot compress the log archive ./logs/archive/secrets_manager_agent.log.1: ./logs/archive/secrets_manager_agent.log.1.gz.tmp already exists as a symbolic link; the agent writes only into files it creates: remove it (the archive is kept uncompressed)",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("a link where the log file should be is refused at start-up with one line, and its target is untouched", async () => {
  const run = await runAgentInPreparedFolder({
    prepare(dir) {
      Deno.mkdirSync(`${dir}/logs`, { mode: 0o700 });
      plantLink(dir, LOG);
    },
    inspect(dir) {
      assertOutsideUntouched(dir);
    },
  });
  assert.equal(run.started, false, explain(run));
  assert.equal(run.exit.code, 1, explain(run));
  assert.deepEqual(agentLines(run.exit.stderr), [
    "Cannot open the log file in ./logs: the log file ./logs/secrets_manager_agent.log is a symbolic link; the agent does not write through links: remove it",
  ]);
});

Deno.test("a log folder only readable by others is set to 0700, and the log says so", async () => {
  const server = await startSecretsManagerServer();
  try {
    let log = "";
    let modeAfter = 0;
    const run = await runAgentInPreparedFolder({
      endpoint: server.url,
      prepare(dir) {
        Deno.mkdirSync(`${dir}/logs`);
        Deno.chmodSync(`${dir}/logs`, 0o755);
      },
      inspect(dir) {
        modeAfter = Deno.statSync(`${dir}/logs`).mode! & 0o7777;
        log = Deno.readTextFileSync(`${dir}/${LOG}`);
      },
    });
    assert.equal(run.started, true, explain(run));
    assert.equal(modeAfter, 0o700);
    assert.match(
      log,
      /^\S+ WARN The log folder \.\/logs was mode 0755; it is now 0700$/m,
    );
  } finally {
    await server.close();
  }
});

Deno.test({
  name:
    "a log folder owned by another user is refused at start-up with one line",
  // Only root can give a folder to another user and still write into it.
  ignore: !IS_ROOT,
  fn: async () => {
    const run = await runAgentInPreparedFolder({
      prepare(dir) {
        Deno.mkdirSync(`${dir}/logs`, { mode: 0o700 });
        Deno.chownSync(`${dir}/logs`, 65534, 65534);
      },
    });
    assert.equal(run.started, false, explain(run));
    assert.equal(run.exit.code, 1, explain(run));
    assert.deepEqual(agentLines(run.exit.stderr), [
      "Cannot open the log file in ./logs: the log folder ./logs is owned by uid 65534, not by the agent's user (uid 0): chown it to the agent's user, or remove it for the agent to create",
    ]);
  },
});
