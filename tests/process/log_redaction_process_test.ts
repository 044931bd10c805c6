/**
 * The SSRF token never reaches the agent's log, as sent or percent-encoded:
 * a client that puts it in a URL (by mistake, or to see whether it is
 * logged) finds `[REDACTED]` in the request's log line, whichever of its
 * characters it encoded, in either case.
 */

import assert from "node:assert/strict";
import { AGENT_TOKEN, startAgent } from "../support/agent_process.ts";
import { startSecretsManagerServer } from "../support/secrets_manager_server.ts";

/** Every character as `%XX`, upper case, or lower case for odd positions. */
function percentEncoded(text: string, lower: boolean): string {
  return [...new TextEncoder().encode(text)].map((byte, i) => {
    const hex = byte.toString(16).toUpperCase().padStart(2, "0");
    return `%${lower && i % 2 === 1 ? hex.toLowerCase() : hex}`;
  }).join("");
}

Deno.test("the token in a URL is redacted in the log, raw and percent-encoded in any case", async () => {
  const server = await startSecretsManagerServer();
  try {
    await using agent = await startAgent({
      endpoint: server.url,
      config: 'log_level = "debug"',
    });
    const fully = percentEncoded(AGENT_TOKEN, false);
    const mixed = percentEncoded(AGENT_TOKEN, true);
    // Only some characters encoded: "process%2Dtest-..." and the like.
    const partly = AGENT_TOKEN.replace("-", "%2D").replace("t", "%74");
    const targets = [
      `/v1/${AGENT_TOKEN}`,
      `/v1/${fully}`,
      `/v1/db?versionId=${mixed}`,
      `/secretsmanager/get?secretId=${partly}`,
      `/not-a-route/${fully}`,
    ];
    for (const target of targets) await agent.get(target);
    await agent.get(`/v1/${fully}`, { token: "wrong-token" });
    const log = await agent.logText();
    for (const form of [AGENT_TOKEN, fully, mixed, partly]) {
      assert.ok(!log.includes(form), `the log holds ${form}:\n${log}`);
    }
    assert.doesNotMatch(log, /%70%72%6F/i, log);
    assert.match(log, /\[REDACTED\]/);
  } finally {
    await server.close();
  }
});
