import assert from "node:assert/strict";
import { RefusalLog } from "../../src/http/refusal_log.ts";
import { ManualClock } from "../support/manual_clock.ts";

function refusalLog(windowMs = 1000) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const refusals = new RefusalLog({
    log: { info: (line) => lines.push(line) },
    windowMs,
    scheduler: clock,
  });
  return { clock, lines, refusals };
}

Deno.test("the first refusal after a quiet window is logged at once, with its own line", () => {
  const { lines, refusals, clock } = refusalLog();
  refusals.record("secret 403", () => "GET /v1/db 403");
  assert.deepEqual(lines, ["GET /v1/db 403"]);
  assert.equal(clock.pendingTimers, 1);
});

Deno.test("a flood is one summary line per window, counted by key, and no line of its own", async () => {
  const { lines, refusals, clock } = refusalLog();
  let built = 0;
  const line = () => {
    built++;
    return "GET /v1/db 403";
  };
  // Three windows of a flood: 1 + 1000, then 1000, then 500 requests.
  for (
    const [count, key] of [[1001, "secret 403"], [1000, "ping 200"], [
      500,
      "secret 429",
    ]] as const
  ) {
    for (let i = 0; i < count; i++) refusals.record(key, line);
    await clock.advance(1000);
  }
  assert.equal(built, 1, "only the first line is built");
  assert.deepEqual(lines, [
    "GET /v1/db 403",
    "Not logged one by one: 1000 requests in the last 1000 ms (secret 403 x1000)",
    "Not logged one by one: 1000 requests in the last 1000 ms (ping 200 x1000)",
    "Not logged one by one: 500 requests in the last 1000 ms (secret 429 x500)",
  ]);
  // A window with nothing in it ends the summaries: no timer left, and the
  // next refusal is logged on its own again.
  await clock.advance(1000);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(lines.length, 4);
  refusals.record("other 404", () => "GET /nowhere 404");
  assert.equal(lines.at(-1), "GET /nowhere 404");
});

Deno.test("keys are counted separately, and a window's distinct keys are bounded", async () => {
  const { lines, refusals, clock } = refusalLog();
  refusals.record("first", () => "first line");
  refusals.record("secret 403", () => "");
  refusals.record("secret 400", () => "");
  refusals.record("secret 403", () => "");
  for (let i = 0; i < 100; i++) refusals.record(`key ${i}`, () => "");
  await clock.advance(1000);
  const summary = lines[1];
  assert.match(
    summary,
    /^Not logged one by one: 103 requests in the last 1000 ms \(secret 403 x2, secret 400 x1, key 0 x1, .* key 13 x1, other x86\)$/,
  );
  assert.equal(summary.split(", ").length, 17);
});

Deno.test("flush writes the open window's counts at once and goes quiet", () => {
  const { lines, refusals, clock } = refusalLog();
  refusals.flush();
  assert.deepEqual(lines, []);
  refusals.record("ping 405", () => "POST /ping 405");
  refusals.record("ping 405", () => "POST /ping 405");
  refusals.flush();
  assert.deepEqual(lines, [
    "POST /ping 405",
    "Not logged one by one: 1 request in the last 1000 ms (ping 405 x1)",
  ]);
  assert.equal(clock.pendingTimers, 0);
  refusals.flush();
  assert.equal(lines.length, 2);
});
