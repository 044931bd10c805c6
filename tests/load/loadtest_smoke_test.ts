/**
 * Keeps the load test from rotting: runs `tests/load/loadtest.ts --quick`
 * for real (agent, bare server, Deno client processes, every scenario) and
 * checks that it prints every figure. No timing is asserted: the figures of
 * a smoke run on a busy machine mean nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { jsonBodyOfSize } from "./bare_server.ts";
import { parseWrkOutput } from "./load_driver.ts";

const ROOT = new URL("../../", import.meta.url);
/** The `loadtest` task's command line, used when deno.json has no such task. */
const LOADTEST_TASK =
  "deno run --no-prompt --allow-net=127.0.0.1 --allow-read --allow-write --allow-env=DENO_DIR,PATH,AGENT_BINARY --allow-run tests/load/loadtest.ts";
const TIME_LIMIT_MS = 180_000;
const NUMBER = String.raw`\d+(?:\.\d+)?`;

async function loadtestCommand(): Promise<string[]> {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  return String(denoJson.tasks?.loadtest ?? LOADTEST_TASK).split(/\s+/);
}

Deno.test("loadtest --quick prints every figure and the docs/performance.md table", async () => {
  const [, ...args] = await loadtestCommand();
  const child = new Deno.Command(Deno.execPath(), {
    // The Deno client path runs everywhere; wrk may not be installed.
    args: [...args, "--quick", "--client", "deno"],
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
      .raw`^round 1  bare Deno\.serve +${NUMBER} req/s  p50 ${NUMBER} ms  p99 ${NUMBER} ms  CPU ${NUMBER} us/request$`,
    String
      .raw`^round 1  agent \(cache hit\) +${NUMBER} req/s  p50 ${NUMBER} ms  p99 ${NUMBER} ms  CPU ${NUMBER} us/request$`,
    String.raw`^\(a\) 200 concurrent requests.*: \d+ GetSecretValue call`,
    String
      .raw`^\(b\) .*worst ${NUMBER} ms .*p50 ${NUMBER} ms, \d+ at 20 ms or more, \d+ upstream calls$`,
    String
      .raw`^\(c\) start-up to healthy /ping: median \d+ ms of \[\d+, \d+, \d+\]$`,
    String
      .raw`^\(d\) resident memory: ${NUMBER} MiB idle, ${NUMBER} MiB with 1000 cached secrets of 4096 bytes$`,
    String
      .raw`^\| bare \`Deno\.serve\` .* \| \d+ \| ${NUMBER} ms \| ${NUMBER} ms \| ${NUMBER} µs \|$`,
    String
      .raw`^\| agent, cache hit \| \d+ \| ${NUMBER} ms \| ${NUMBER} ms \| ${NUMBER} µs \|$`,
    String
      .raw`^\| Cache-hit throughput, .* \| >= 0\.90 x \| ${NUMBER} x \| (yes|no) \|$`,
    String
      .raw`^\| Cache-hit CPU time per request, .* \| <= 1\.1 x \| ${NUMBER} x \| (yes|no) \|$`,
    String
      .raw`^\| Cache-hit p99 latency, .* \| <= 2 x \| ${NUMBER} x \| (yes|no) \|$`,
    String
      .raw`^\| GetSecretValue calls for 200 concurrent .* \| 1 \| \d+ \| (yes|no) \|$`,
    String
      .raw`^\| Worst latency, 50 req/s .* \| < 20 ms \| ${NUMBER} ms \| (yes|no) \|$`,
    String
      .raw`^\| Start-up to healthy /ping .* \| < 250 ms \| \d+ ms \| (yes|no) \|$`,
    String
      .raw`^\| Resident memory .* \| < 90 MB \| ${NUMBER} MiB \(${NUMBER} MB\) \| (yes|no) \|$`,
  ];
  for (const line of expected) {
    assert.match(stdout, new RegExp(line, "m"));
  }
});

Deno.test("parseWrkOutput reads requests/s, p50, p99 and failures from wrk --latency", () => {
  const output = [
    "Running 5s test @ http://127.0.0.1:35969/",
    "  2 threads and 64 connections",
    "  Thread Stats   Avg      Stdev     Max   +/- Stdev",
    "    Latency   214.43us  416.65us   4.82ms   93.83%",
    "    Req/Sec    30.87k     9.83k   52.77k    70.00%",
    "  Latency Distribution",
    "     50%  129.00us",
    "     75%  161.00us",
    "     90%  279.00us",
    "     99%    2.44ms",
    "  61388 requests in 1.00s, 7.73MB read",
    "  Socket errors: connect 0, read 2, write 1, timeout 0",
    "  Non-2xx or 3xx responses: 12",
    "Requests/sec:  61317.48",
    "Transfer/sec:      7.72MB",
  ].join("\n");
  assert.deepEqual(parseWrkOutput(output), {
    requestsPerSecond: 61317.48,
    p50Ms: 0.129,
    p99Ms: 2.44,
    failed: 15,
  });
  assert.throws(() => parseWrkOutput("wrk: command failed"), /Unexpected/);
});

Deno.test("the bare server's body is JSON of exactly the agent's body size", () => {
  for (const bytes of [12, 400, 4321]) {
    const body = jsonBodyOfSize(bytes);
    assert.equal(new TextEncoder().encode(body).byteLength, bytes);
    assert.equal(typeof JSON.parse(body).pad, "string");
  }
  assert.throws(() => jsonBodyOfSize(3), RangeError);
});
