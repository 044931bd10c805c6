import assert from "node:assert/strict";
import {
  createAgentMetrics,
  MAX_SERIES,
} from "../../src/metrics/agent_metrics.ts";
import { auditRecord } from "../../src/log/audit_log.ts";
import { CacheCounters } from "../../src/cache/cache_stats.ts";

Deno.test("the agent's metrics render every family, with cache counters read at scrape time", () => {
  const counters = new CacheCounters();
  let entries = 0;
  const metrics = createAgentMetrics(() => [{
    name: "secrets",
    stats: () =>
      counters.snapshot({ entries, bytes: entries * 10, inFlight: 0 }),
  }]);
  metrics.recordRequest("secret", 200);
  metrics.recordRequest("secret", 200);
  metrics.recordRequest("other", 404);
  metrics.recordUpstream({
    operation: "GetSecretValue",
    outcome: "success",
    seconds: 0.02,
  });
  counters.recordOutcome("hit");
  entries = 3;
  const text = metrics.render(2);
  for (
    const line of [
      "# TYPE secrets_agent_requests_total counter",
      'secrets_agent_requests_total{route="secret",status="200"} 2',
      'secrets_agent_requests_total{route="other",status="404"} 1',
      "secrets_agent_requests_in_flight 2",
      "# TYPE secrets_agent_cache_events_total counter",
      'secrets_agent_cache_events_total{cache="secrets",event="hit"} 1',
      'secrets_agent_cache_events_total{cache="secrets",event="miss"} 0',
      'secrets_agent_cache_entries{cache="secrets"} 3',
      'secrets_agent_cache_bytes{cache="secrets"} 30',
      'secrets_agent_upstream_calls_total{operation="GetSecretValue",outcome="success"} 1',
      'secrets_agent_upstream_duration_seconds_bucket{operation="GetSecretValue",le="0.01"} 0',
      'secrets_agent_upstream_duration_seconds_bucket{operation="GetSecretValue",le="0.025"} 1',
      'secrets_agent_upstream_duration_seconds_count{operation="GetSecretValue"} 1',
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `missing: ${line}\n${text}`);
  }
  assert.equal(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8");
});

/** The sample lines of `name` (not its header), in the order rendered. */
function samplesOf(text: string, name: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(`${name}{`));
}

Deno.test("series appear in first-seen order, and label values that would join to the same text stay apart", () => {
  const metrics = createAgentMetrics(() => []);
  for (const outcome of ["b", "a,x", "b"]) {
    metrics.recordUpstream({ operation: "Op", outcome, seconds: 0 });
  }
  metrics.recordUpstream({ operation: "Op,a", outcome: "x", seconds: 0 });
  assert.deepEqual(
    samplesOf(metrics.render(0), "secrets_agent_upstream_calls_total"),
    [
      'secrets_agent_upstream_calls_total{operation="Op",outcome="b"} 2',
      'secrets_agent_upstream_calls_total{operation="Op",outcome="a,x"} 1',
      'secrets_agent_upstream_calls_total{operation="Op,a",outcome="x"} 1',
    ],
  );
});

Deno.test("label combinations beyond MAX_SERIES add to one series labelled other", () => {
  const metrics = createAgentMetrics(() => []);
  const extra = 50;
  for (let i = 0; i < MAX_SERIES + extra; i++) {
    metrics.recordUpstream({
      operation: "GetSecretValue",
      outcome: `Code${i}`,
      seconds: 0.001,
    });
  }
  metrics.recordUpstream({
    operation: "GetSecretValue",
    outcome: "Code0",
    seconds: 0.001,
  });
  const calls = samplesOf(
    metrics.render(0),
    "secrets_agent_upstream_calls_total",
  );
  assert.equal(calls.length, MAX_SERIES + 1);
  assert.equal(
    calls[0],
    'secrets_agent_upstream_calls_total{operation="GetSecretValue",outcome="Code0"} 2',
  );
  assert.equal(
    calls.at(-1),
    `secrets_agent_upstream_calls_total{operation="other",outcome="other"} ${extra}`,
  );
});

Deno.test("an audit record is one JSON object, absent fields left out", () => {
  assert.equal(
    auditRecord({
      kind: "secret",
      id: "prod/db",
      versionId: "v1",
      status: 200,
      outcome: "hit",
    }),
    '{"kind":"secret","id":"prod/db","versionId":"v1","status":200,"cache":"hit"}',
  );
  assert.equal(
    auditRecord({
      kind: "parameter",
      id: "/p\n",
      roleArn: "arn:aws:iam::111111111111:role/r",
      status: 404,
      outcome: "error",
    }),
    '{"kind":"parameter","id":"/p\\n","roleArn":"arn:aws:iam::111111111111:role/r","status":404,"cache":"error"}',
  );
});
