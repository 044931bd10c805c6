import assert from "node:assert/strict";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { parseDemoArgs } from "../support/demo_server.ts";
import type { SecretsManagerServer } from "../support/secrets_manager_server.ts";
import { secretsManagerClient } from "../support/sdk_clients.ts";

Deno.test("demo arguments: --port N or --port=N, default 0, anything else refused", () => {
  assert.deepEqual(parseDemoArgs([]), { port: 0 });
  assert.deepEqual(parseDemoArgs(["--port", "2774"]), { port: 2774 });
  assert.deepEqual(parseDemoArgs(["--port=0"]), { port: 0 });
  assert.throws(() => parseDemoArgs(["--port"]), /--port needs a value/);
  assert.throws(() => parseDemoArgs(["--port", "70000"]), /Invalid port 70000/);
  assert.throws(() => parseDemoArgs(["--verbose"]), /Unknown option --verbose/);
});

Deno.test("the demo serves its sample secrets and stops cleanly on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--frozen",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      new URL("../support/demo_server.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("Press Ctrl+C")) {
    const { value, done } = await reader.read();
    if (done) break;
    printed += value;
  }
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
  assert.ok(url, printed);
  assert.match(
    printed,
    /export AWS_ENDPOINT_URL_SECRETS_MANAGER=http:\/\/127\.0\.0\.1:\d+/,
  );
  assert.match(printed, /demo\/rotated {2}\(AWSPREVIOUS, AWSCURRENT\)/);
  const client = secretsManagerClient({ url } as SecretsManagerServer);
  try {
    const out = await client.send(
      new GetSecretValueCommand({
        SecretId: "demo/rotated",
        VersionStage: "AWSPREVIOUS",
      }),
    );
    assert.equal(out.SecretString, "old-password");
  } finally {
    client.destroy();
  }
  child.kill("SIGTERM");
  while (!(await reader.read()).done) { /* drain until exit */ }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});
