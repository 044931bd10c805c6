/**
 * The process-test helper itself: a request to an agent that is gone says
 * why, with the agent's exit code and last stderr lines, so a failing
 * process test names its cause; and the test task shares the agents' V8 flags.
 */

import assert from "node:assert/strict";
import { startAgent } from "../support/agent_process.ts";

Deno.test("a request to an agent that exited names its exit code and last stderr lines", async () => {
  await using agent = await startAgent({
    config: "validate_credentials = false\nlog_to_file = false",
  });
  // A signal the agent does not handle: the exit is the signal's.
  agent.signal("SIGKILL");
  await agent.stop("SIGKILL");
  const error = await agent.get("/ping", { token: null }).then(
    () => undefined,
    (error: Error) => error,
  );
  assert.ok(error instanceof Error, "the request to a dead agent succeeded");
  assert.match(
    error.message,
    /^\/ping: .+; the agent exited with 137; last stderr lines:\n/s,
  );
});

// Deno keeps one compiled-code entry per module, checked against the V8
// flags: a runner with other flags than its agents recompiles the SDK for
// them at every start, and they for it.
Deno.test("the test task runs with the start script's V8 flags", async () => {
  const root = new URL("../../", import.meta.url);
  const script = await Deno.readTextFile(new URL("scripts/start.sh", root));
  const tasks = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ).tasks;
  const flags = (text: string) => text.match(/--v8-flags=\S+/g) ?? [];
  assert.deepEqual(flags(script), [
    "--v8-flags=--optimize-for-size,--no-maglev",
  ]);
  assert.deepEqual(flags(tasks.test), flags(script));
});
