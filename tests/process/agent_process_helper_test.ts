/**
 * The process-test helper itself: a request to an agent that is gone says
 * why, with the agent's exit code and last stderr lines, so a failing
 * process test names its cause.
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
