import assert from "node:assert/strict";

Deno.test("deno task demo serves a sample secret through the real agent and stops on SIGINT", async () => {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  const [, ...args] = String(denoJson.tasks.demo).split(/\s+/);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("../../", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
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
  assert.match(printed, /Agent\/\S+ listening on http:\/\/127\.0\.0\.1:\d+/);
  const curl = /curl -H '([^:]+): ([^']+)' '([^']+secretId=demo\/plain)'/.exec(
    printed,
  );
  assert.ok(curl, printed);
  const response = await fetch(curl[3], { headers: { [curl[1]]: curl[2] } });
  const body = await response.json();
  assert.equal(response.status, 200);
  assert.equal(body.SecretString, "hello from the local Secrets Manager");

  child.kill("SIGINT");
  while (!(await reader.read()).done) { /* drain until exit */ }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});
