import assert from "node:assert/strict";
import {
  isForwarded,
  isLocalAuthority,
} from "../../src/http/request_origin.ts";

Deno.test("localhost, 127.0.0.1 and [::1], with or without a port, in any case, are local", () => {
  for (
    const authority of [
      "localhost",
      "localhost:2773",
      "LocalHost:2773",
      "127.0.0.1",
      "127.0.0.1:2773",
      "127.0.0.1:",
      "[::1]",
      "[::1]:2773",
    ]
  ) {
    assert.ok(isLocalAuthority(`http://${authority}/v1/db`), authority);
    assert.ok(isLocalAuthority(`http+unix://${authority}/ping`), authority);
  }
});

Deno.test("any other authority is not local: other names, other loopback spellings, a socket path", () => {
  for (
    const authority of [
      "evil.example",
      "evil.example:2773",
      "localhost.evil.example",
      "127.0.0.1.nip.io",
      "localhost.",
      "127.0.0.2",
      "127.1",
      "2130706433",
      "0.0.0.0",
      "[::ffff:127.0.0.1]",
      "[0:0:0:0:0:0:0:1]",
      "127.0.0.1:2773:1",
      "",
      // Deno.serve's authority for a Unix socket request without a Host
      // header: the handler decides on it with the transport.
      "%2Frun%2Fagent.sock",
    ]
  ) {
    assert.ok(!isLocalAuthority(`http://${authority}/v1/db`), authority);
  }
});

Deno.test("X-Forwarded-For, Forwarded and X-Real-IP mark a relayed request, even empty", () => {
  for (const name of ["X-Forwarded-For", "Forwarded", "X-Real-IP"]) {
    assert.ok(isForwarded(new Headers({ [name]: "203.0.113.7" })), name);
    assert.ok(isForwarded(new Headers({ [name.toLowerCase()]: "" })), name);
  }
  assert.ok(!isForwarded(new Headers({ "X-Forwarded-Host": "x", Via: "1.1" })));
  assert.ok(!isForwarded(new Headers()));
});
