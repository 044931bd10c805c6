import { startAgent } from "./tests/support/agent_process.ts";
await using agent = await startAgent({});
for (const line of ["OPTIONS /v1/x HTTP/1.1", "TRACE /v1/x HTTP/1.1", `CONNECT 127.0.0.1:${agent.port} HTTP/1.1`, "OPTIONS * HTTP/1.1"]) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: agent.port });
  await c.write(new TextEncoder().encode(`${line}\r\nHost: 127.0.0.1:${agent.port}\r\nX-Aws-Parameters-Secrets-Token: process-test-token-4f1c9a2e7b\r\nConnection: close\r\n\r\n`));
  const buf = new Uint8Array(2048); const n = await c.read(buf);
  console.log(line, "=>", new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0], new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n\r\n")[1]);
  c.close();
}
