/**
 * The audit log, end to end: with `audit_log = true`, one JSON line per
 * secret or parameter answer in `logs/secrets_manager_agent_audit.log`
 * (stdout with `log_to_file = false`), whatever the log level, never with a
 * value or the token; nothing without it.
 */

import assert from "node:assert/strict";
import { AGENT_TOKEN, startAgent } from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";

const AUDIT_FILE = "logs/secrets_manager_agent_audit.log";
const LINE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) INFO (\{.*\})$/;

/** The file's text once it holds `lines` lines (they are written in batches within 10 ms). */
async function settled(read: () => Promise<string>, lines: number) {
  let text = "";
  for (let i = 0; i < 500; i++) {
    text = await read();
    if (text.split("\n").length > lines) return text;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`fewer than ${lines} lines:\n${text}`);
}

async function auditRecords(
  path: string,
  lines: number,
): Promise<Record<string, unknown>[]> {
  const text = await settled(() => Deno.readTextFile(path), lines);
  return text.trimEnd().split("\n").map((line) => {
    const match = LINE.exec(line);
    assert.ok(match, `not an audit line: ${line}`);
    return JSON.parse(match[2]);
  });
}

Deno.test("each answer is one audit line: id, version, status and cache outcome", async () => {
  const server = await startSecretsManagerServer();
  try {
    const { versionId } = server.createSecret("audit/db", "audited-value");
    server.putParameter("/audit/param", "param-value");
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'audit_log = true\nparameter_store = true\nlog_level = "none"',
    });
    await agent.get("/v1/audit%2Fdb");
    await agent.get("/v1/audit%2Fdb");
    await agent.get("/v1/audit%2Fmissing");
    await agent.get("/systemsmanager/parameters/get?name=%2Faudit%2Fparam");
    await agent.get("/ping");
    await agent.get("/v1/audit%2Fdb", { token: "wrong" });
    const records = await auditRecords(`${agent.dir}/${AUDIT_FILE}`, 4);
    assert.deepEqual(records, [
      { kind: "secret", id: "audit/db", versionId, status: 200, cache: "miss" },
      { kind: "secret", id: "audit/db", versionId, status: 200, cache: "hit" },
      { kind: "secret", id: "audit/missing", status: 400, cache: "error" },
      {
        kind: "parameter",
        id: "/audit/param",
        versionId: "1",
        status: 200,
        cache: "miss",
      },
    ]);
    const text = await Deno.readTextFile(`${agent.dir}/${AUDIT_FILE}`);
    assert.ok(!text.includes("audited-value") && !text.includes("param-value"));
    assert.ok(!text.includes(AGENT_TOKEN));
    // log_level = "none" silences the agent's log, not the audit log.
    assert.equal(await agent.logText(), "");
  } finally {
    await server.close();
  }
});

Deno.test("with log_to_file = false the audit lines go to stdout", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("audit/db", "v");
    await using agent = await startAgent({
      endpoint: server.url,
      config: "audit_log = true\nlog_to_file = false",
    });
    await agent.get("/v1/audit%2Fdb");
    const line =
      /INFO \{"kind":"secret","id":"audit\/db","versionId":"[^"]+","status":200,"cache":"miss"\}/;
    for (let i = 0; i < 500 && !line.test(agent.stdout()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.match(agent.stdout(), line);
  } finally {
    await server.close();
  }
});

Deno.test("without audit_log there is no audit file", async () => {
  const server = await startSecretsManagerServer();
  try {
    server.createSecret("audit/db", "v");
    await using agent = await startAgent({ endpoint: server.url });
    await agent.get("/v1/audit%2Fdb");
    await agent.logText();
    await assert.rejects(
      Deno.stat(`${agent.dir}/${AUDIT_FILE}`),
      Deno.errors.NotFound,
    );
  } finally {
    await server.close();
  }
});

Deno.test("a token holder flooding distinct answers cannot grow the audit log past its budget: what is not written is counted in summary lines", async () => {
  const server = await startSecretsManagerServer();
  try {
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'audit_log = true\nlog_level = "none"',
    });
    // About 4 MB of audit lines if each were written: four times the burst,
    // and more than the burst plus the rate over any plausible test run.
    const requests = 2000;
    const padding = "p".repeat(1900);
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        const index = next++;
        const response = await agent.get(`/v1/flood-${index}-${padding}`);
        assert.equal(response.status, 400);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const exit = await agent.stop();
    assert.equal(exit.code, 0, exit.stderr);
    const path = `${agent.dir}/${AUDIT_FILE}`;
    const size = (await Deno.stat(path)).size;
    assert.ok(size < 2.5 * 1024 * 1024, `the audit file holds ${size} bytes`);
    const records = (await Deno.readTextFile(path)).trimEnd().split("\n")
      .map((line) => JSON.parse(LINE.exec(line)![2]));
    const written = records.filter((entry) => entry.kind === "secret");
    const summaries = records.filter((entry) => entry.kind === "summary");
    assert.ok(summaries.length > 0, "no summary line");
    assert.equal(
      written.length +
        summaries.reduce((sum, entry) => sum + entry.answers, 0),
      requests,
    );
    for (const summary of summaries) {
      assert.deepEqual(Object.keys(summary.statuses), ["400"]);
    }
  } finally {
    await server.close();
  }
});
