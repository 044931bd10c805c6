/**
 * Keeps the soak test from rotting: runs `deno task soak --quick` for real
 * (local Secrets Manager, the agent, mixed traffic, faults, rotations, the
 * log scan) and checks that it exits 0 and prints every figure. No timing is
 * asserted: the figures of a smoke run on a busy machine mean nothing.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
/** The `soak` task's command line, used when deno.json has no such task. */
const SOAK_TASK =
  "deno run --no-prompt --allow-net=127.0.0.1 --allow-read --allow-write --allow-env=DENO_DIR,PATH,AGENT_BINARY --allow-run tests/load/soak.ts";
const TIME_LIMIT_MS = 50_000;
const NUMBER = String.raw`\d+(?:\.\d+)?`;
const COUNTS = String.raw`(?:none|[^,]+ \d+(?:, [^,]+ \d+)*)`;

async function soakCommand(): Promise<string[]> {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  return String(denoJson.tasks?.soak ?? SOAK_TASK).split(/\s+/);
}

Deno.test("soak --quick exits 0 and prints every figure and the docs/reliability.md tables", async () => {
  const [, ...args] = await soakCommand();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, "--quick"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIME_LIMIT_MS);
  const output = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `exit ${output.code}\n${stderr}\n${stdout}`);
  const expected = [
    String
      .raw`^duration: ${NUMBER} s, \d+ clients, fault phases of ${NUMBER} s: clean, latency .*, stall \(\d+ phases run\)$`,
    String
      .raw`^requests served: \d+ \(\d+ req/s\), client timeouts and errors: \d+$`,
    String.raw`^statuses all: .*\b200 \d+`,
    String.raw`^statuses hit: ${COUNTS}$`,
    String.raw`^statuses miss: ${COUNTS}$`,
    String.raw`^statuses refreshNow: ${COUNTS}$`,
    String.raw`^statuses badToken: 403 Bad Token \d+$`,
    String.raw`^statuses unknown: .*400 ResourceNotFoundException \d+`,
    String.raw`^upstream calls: .*GetSecretValue \d+.*; faults met: ${COUNTS}$`,
    String
      .raw`^rotations: [1-9]\d* \(new value first served after median \d+ ms, max \d+ ms\)$`,
    String.raw`^crashes: 0 \(exit code on SIGTERM 0\)$`,
    String
      .raw`^memory: first after warm-up ${NUMBER} MiB, last ${NUMBER} MiB, max ${NUMBER} MiB \(growth -?${NUMBER} MiB, limit ${NUMBER} MiB, \d+ samples\)$`,
    String.raw`^memory samples \(MiB, from the start\): \d+( \d+)+$`,
    String.raw`^mismatches: 0 of [1-9]\d* answers 200 checked$`,
    String.raw`^unexpected answers: 0$`,
    String.raw`^error bodies holding a secret value: 0$`,
    String
      .raw`^log hits: 0 \(secret values 0, SSRF token 0, bad token 0, secret access key 0, Authorization 0, AWS4-HMAC-SHA256 0\) in [1-9]\d* files, ${NUMBER} MB`,
    String
      .raw`^log modes: file 0600, folder 0700, entries with another mode: none$`,
    String.raw`^\| Kind \| Share \| Requests \| Answers \|$`,
    ...["hit", "miss", "refreshNow", "badToken", "unknown"].map((kind) =>
      String.raw`^\| ${kind} \| \d+ % \| \d+ \| ${COUNTS} \|$`
    ),
    String.raw`^\| Requests served \| \| \d+ \(\d+ req/s\) \| \|$`,
    String.raw`^\| Agent crashes .* \| 0 \| 0 \| yes \|$`,
    String.raw`^\| Exit code on SIGTERM \| 0 \| 0 \| yes \|$`,
    String
      .raw`^\| Resident memory after warm-up: first / last / max \| .* \| ${NUMBER} MiB / ${NUMBER} MiB / ${NUMBER} MiB.* \| yes \|$`,
    String
      .raw`^\| 200 bodies not the current or previous value .* \| 0 \| 0 of \d+ \| yes \|$`,
    String.raw`^\| Log hits: .* \| 0 \| 0 in \d+ files \| yes \|$`,
    String
      .raw`^\| Log file / logs folder mode .* \| 0600 / 0700 \| 0600 / 0700 \| yes \|$`,
    String.raw`^every must holds$`,
  ];
  for (const line of expected) {
    assert.match(stdout, new RegExp(line, "m"));
  }
});
