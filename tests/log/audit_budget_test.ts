import assert from "node:assert/strict";
import {
  AuditBudget,
  type AuditBudgetOptions,
} from "../../src/log/audit_budget.ts";
import { ManualClock } from "../support/manual_clock.ts";

function budgetWith(options: Partial<AuditBudgetOptions> = {}) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const budget = new AuditBudget({
    write: (line) => lines.push(line),
    nowMs: clock.now,
    scheduler: clock,
    ...options,
  });
  return { clock, lines, budget };
}

function record(id: string, status = 200): string {
  return JSON.stringify({ kind: "secret", id, status, cache: "hit" });
}

Deno.test("the same answer again within a window is one line, then one line with its repeat count", async () => {
  const { clock, lines, budget } = budgetWith();
  for (let i = 0; i < 50; i++) budget.add(record("db"), 200);
  budget.add(record("other"), 200);
  assert.deepEqual(lines, [record("db"), record("other")]);
  await clock.advance(1000);
  assert.deepEqual(lines, [
    record("db"),
    record("other"),
    '{"kind":"secret","id":"db","status":200,"cache":"hit","repeats":49}',
  ]);
  // A new window writes the answer again.
  budget.add(record("db"), 200);
  assert.equal(lines.at(-1), record("db"));
});

Deno.test("a flood of distinct answers writes at most the burst, then one summary line a window counting the rest by status", async () => {
  const { clock, lines, budget } = budgetWith({
    burstBytes: 1000,
    bytesPerSecond: 100,
  });
  const size = new TextEncoder().encode(record("id-0000")).length;
  for (let i = 0; i < 300; i++) {
    const id = `id-${String(i).padStart(4, "0")}`;
    budget.add(record(id, i % 3 === 0 ? 400 : 200), i % 3 === 0 ? 400 : 200);
  }
  const written = Math.floor(1000 / size);
  assert.equal(lines.length, written);
  await clock.advance(1000);
  assert.equal(lines.length, written + 1);
  const summary = JSON.parse(lines.at(-1)!);
  assert.equal(summary.kind, "summary");
  assert.equal(summary.answers, 300 - written);
  assert.equal(
    summary.statuses["200"] + summary.statuses["400"],
    300 - written,
  );
});

Deno.test("over a long flood the bytes written stay within the burst plus the rate, and every answer is counted", async () => {
  const { clock, lines, budget } = budgetWith({
    burstBytes: 2000,
    bytesPerSecond: 500,
  });
  let sent = 0;
  for (let second = 0; second < 20; second++) {
    for (let i = 0; i < 100; i++) {
      budget.add(record(`flood-${second}-${i}`, 400), 400);
      sent++;
    }
    await clock.advance(1000);
  }
  const records = lines.map((line) => JSON.parse(line));
  const summaries = records.filter((entry) => entry.kind === "summary");
  const answers = records.filter((entry) => entry.kind === "secret");
  const bytes = answers.reduce(
    (sum, entry) => sum + JSON.stringify(entry).length,
    0,
  );
  assert.ok(bytes <= 2000 + 500 * 20, `${bytes} bytes of answers written`);
  assert.ok(summaries.length <= 20);
  assert.equal(
    answers.length +
      summaries.reduce((sum, entry) => sum + entry.answers, 0),
    sent,
  );
});

Deno.test("flush writes the pending counts at once and cancels the window's timer", () => {
  const { clock, lines, budget } = budgetWith({ burstBytes: 10 });
  budget.add(record("too-long-for-the-burst"), 404);
  assert.deepEqual(lines, []);
  budget.flush();
  assert.deepEqual(lines, [
    '{"kind":"summary","answers":1,"statuses":{"404":1}}',
  ]);
  assert.equal(clock.pendingTimers, 0);
});
