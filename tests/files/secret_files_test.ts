/**
 * startSecretFiles: each file written at start, rewritten only for a new
 * version with new content, kept on failures, stopped cleanly; time moved by
 * hand, writes counted through the injected writer.
 */

import assert from "node:assert/strict";
import type { SecretFile } from "../../src/config/file_entries.ts";
import { UpstreamError } from "../../src/errors.ts";
import type { SecretRequest } from "../../src/cache/secret_value.ts";
import { toResponseBody } from "../../src/cache/secret_value.ts";
import {
  type SecretFileSource,
  startSecretFiles,
  type WriteFile,
} from "../../src/files/secret_files.ts";
import { ManualClock, settle } from "../support/manual_clock.ts";

const INTERVAL_MS = 60_000;
const THROTTLED = new UpstreamError({
  kind: "service",
  status: 400,
  code: "ThrottlingException",
  message: "Rate exceeded",
});

/** Secrets by id, as the cache would answer them; `fail` makes `get` reject. */
class Secrets implements SecretFileSource {
  readonly requests: SecretRequest[] = [];
  readonly #values = new Map<string, { versionId: string; body: string }>();
  fail: UpstreamError | undefined;
  /** While set, `get` waits for it. */
  gate: Promise<void> | undefined;

  set(
    secretId: string,
    versionId: string,
    value: { secretString: string } | { secretBinary: string },
  ): void {
    this.#values.set(secretId, {
      versionId,
      body: toResponseBody({
        arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}`,
        name: secretId,
        versionId,
        versionStages: ["AWSCURRENT"],
        ...value,
      }),
    });
  }

  async get(request: SecretRequest) {
    this.requests.push(request);
    await this.gate;
    if (this.fail !== undefined) throw this.fail;
    const value = this.#values.get(request.secretId);
    if (value === undefined) throw new Error(`no secret ${request.secretId}`);
    return value;
  }
}

interface Written {
  readonly path: string;
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly mode: number;
}

function harness(files: readonly SecretFile[], writeFile?: WriteFile) {
  const clock = new ManualClock();
  const secrets = new Secrets();
  const writes: Written[] = [];
  const lines: string[] = [];
  const start = () =>
    startSecretFiles(secrets, files, {
      intervalMs: INTERVAL_MS,
      log: {
        info: (line) => lines.push(`INFO ${line}`),
        error: (line) => lines.push(`ERROR ${line}`),
      },
      scheduler: clock,
      writeFile: writeFile ?? ((path, bytes, { mode }) => {
        writes.push({
          path,
          bytes,
          text: new TextDecoder().decode(bytes),
          mode,
        });
        return Promise.resolve();
      }),
    });
  return { clock, secrets, writes, lines, start };
}

const DB: SecretFile = { secretId: "prod/db", path: "/run/s/db", mode: 0o600 };

Deno.test("each file is written at start, with its SecretString and mode, one INFO line each", async () => {
  const { secrets, writes, lines, start } = harness([
    DB,
    { secretId: "prod/api", path: "/run/s/api", mode: 0o440 },
  ]);
  secrets.set("prod/db", "v1", { secretString: "db-secret" });
  secrets.set("prod/api", "a1", { secretString: "api-key" });
  const files = start();
  await settle();
  assert.deepEqual(
    writes.map(({ path, text, mode }) => [path, text, mode]),
    [["/run/s/db", "db-secret", 0o600], ["/run/s/api", "api-key", 0o440]],
  );
  assert.deepEqual(lines, [
    "INFO Wrote secret prod/db (version v1) to /run/s/db",
    "INFO Wrote secret prod/api (version a1) to /run/s/api",
  ]);
  await files.stop();
});

Deno.test("the file's secret is asked again every interval, and an unchanged version is never written again", async () => {
  const { clock, secrets, writes, start } = harness([DB]);
  secrets.set("prod/db", "v1", { secretString: "db-secret" });
  const files = start();
  await settle();
  for (let i = 0; i < 5; i++) await clock.advance(INTERVAL_MS);
  assert.equal(secrets.requests.length, 6);
  assert.equal(writes.length, 1);
  await files.stop();
});

Deno.test("a new version is written at the next poll, and only once", async () => {
  const { clock, secrets, writes, lines, start } = harness([DB]);
  secrets.set("prod/db", "v1", { secretString: "old" });
  const files = start();
  await settle();
  secrets.set("prod/db", "v2", { secretString: "new" });
  await clock.advance(INTERVAL_MS - 1);
  assert.equal(writes.length, 1, "not before the interval");
  await clock.advance(1);
  assert.deepEqual(writes.map(({ text }) => text), ["old", "new"]);
  await clock.advance(INTERVAL_MS * 3);
  assert.equal(writes.length, 2);
  assert.equal(
    lines.at(-1),
    "INFO Wrote secret prod/db (version v2) to /run/s/db",
  );
  await files.stop();
});

Deno.test("the request carries the entry's version_stage and role_arn", async () => {
  const { secrets, start } = harness([{
    ...DB,
    versionStage: "AWSPENDING",
    roleArn: "arn:aws:iam::123456789012:role/reader",
  }]);
  secrets.set("prod/db", "v1", { secretString: "x" });
  const files = start();
  await settle();
  assert.deepEqual(secrets.requests, [{
    secretId: "prod/db",
    versionStage: "AWSPENDING",
    roleArn: "arn:aws:iam::123456789012:role/reader",
  }]);
  await files.stop();
});

Deno.test("json_key writes one field; a new version whose field is the same is not written again", async () => {
  const { clock, secrets, writes, start } = harness([
    { ...DB, jsonKey: "password" },
    { secretId: "prod/db", jsonKey: "port", path: "/run/s/port", mode: 0o600 },
  ]);
  secrets.set("prod/db", "v1", {
    secretString: '{"username":"app","password":"pw1","port":5432}',
  });
  const files = start();
  await settle();
  assert.deepEqual(writes.map(({ text }) => text), ["pw1", "5432"]);
  secrets.set("prod/db", "v2", {
    secretString: '{"username":"other","password":"pw1","port":5432}',
  });
  await clock.advance(INTERVAL_MS);
  assert.equal(writes.length, 2, "same field, new version: nothing written");
  secrets.set("prod/db", "v3", {
    secretString: '{"username":"other","password":"pw2","port":5432}',
  });
  await clock.advance(INTERVAL_MS);
  assert.deepEqual(writes.map(({ path, text }) => [path, text]), [
    ["/run/s/db", "pw1"],
    ["/run/s/port", "5432"],
    ["/run/s/db", "pw2"],
  ]);
  await files.stop();
});

Deno.test("SecretBinary is written as its bytes", async () => {
  const { secrets, writes, start } = harness([DB]);
  secrets.set("prod/db", "v1", { secretBinary: "AAH/gA==" });
  const files = start();
  await settle();
  assert.deepEqual([...writes[0].bytes], [0x00, 0x01, 0xff, 0x80]);
  await files.stop();
});

Deno.test("json_key on a binary secret or one that does not fit: one ERROR line per version, the file not written, the last good one kept", async () => {
  const { clock, secrets, writes, lines, start } = harness([
    { ...DB, jsonKey: "password" },
  ]);
  secrets.set("prod/db", "v1", { secretString: '{"password":"pw1"}' });
  const files = start();
  await settle();
  secrets.set("prod/db", "v2", { secretBinary: "AAE=" });
  await clock.advance(INTERVAL_MS * 3);
  secrets.set("prod/db", "v3", { secretString: '{"user":"x"}' });
  await clock.advance(INTERVAL_MS * 2);
  secrets.set("prod/db", "v4", { secretString: "plain text" });
  await clock.advance(INTERVAL_MS);
  assert.deepEqual(writes.map(({ text }) => text), ["pw1"]);
  assert.deepEqual(lines.slice(1), [
    "ERROR File /run/s/db: json_key needs a JSON object in SecretString; the secret is binary (secret prod/db, version v2); the file is not written",
    "ERROR File /run/s/db: json_key not in the secret's JSON: password (secret prod/db, version v3); the file is not written",
    "ERROR File /run/s/db: json_key needs a JSON object in SecretString; the secret's is not one (secret prod/db, version v4); the file is not written",
  ]);
  await files.stop();
});

Deno.test("a failed refresh is one ERROR line and keeps the last good file; the next poll picks the new version up", async () => {
  const { clock, secrets, writes, lines, start } = harness([DB]);
  secrets.set("prod/db", "v1", { secretString: "good" });
  const files = start();
  await settle();
  secrets.fail = THROTTLED;
  await clock.advance(INTERVAL_MS);
  assert.equal(writes.length, 1);
  assert.equal(
    lines.at(-1),
    "ERROR File /run/s/db: could not get secret prod/db: ThrottlingException (400); the file is left as it is",
  );
  secrets.fail = undefined;
  secrets.set("prod/db", "v2", { secretString: "newer" });
  await clock.advance(INTERVAL_MS);
  assert.deepEqual(writes.map(({ text }) => text), ["good", "newer"]);
  await files.stop();
});

Deno.test("a failed write is one ERROR line, and the version is tried again at the next poll", async () => {
  let isBroken = true;
  const texts: string[] = [];
  const { clock, secrets, lines, start } = harness([DB], (_path, bytes) => {
    if (isBroken) return Promise.reject(new Error("disk full\nmore"));
    texts.push(new TextDecoder().decode(bytes));
    return Promise.resolve();
  });
  secrets.set("prod/db", "v1", { secretString: "s" });
  const files = start();
  await settle();
  assert.deepEqual(lines, [
    "ERROR File /run/s/db: could not write secret prod/db: disk full; the file is left as it is",
  ]);
  isBroken = false;
  await clock.advance(1000);
  assert.deepEqual(texts, ["s"]);
  await files.stop();
});

Deno.test("until a file is first written, polls come after 1 s, doubling up to the interval; then every interval", async () => {
  const { clock, secrets, writes, start } = harness([DB]);
  secrets.fail = THROTTLED;
  const files = start();
  await settle();
  const startMs = clock.now();
  const pollTimes: number[] = [];
  for (let i = 0; i < 8; i++) {
    await clock.advance(clock.nextTimerAtMs! - clock.now());
    pollTimes.push(clock.now() - startMs);
  }
  assert.deepEqual(
    pollTimes,
    [1000, 3000, 7000, 15_000, 31_000, 63_000, 123_000, 183_000],
  );
  secrets.fail = undefined;
  secrets.set("prod/db", "v1", { secretString: "s" });
  await clock.advance(INTERVAL_MS);
  assert.equal(writes.length, 1);
  assert.equal(clock.nextTimerAtMs! - clock.now(), INTERVAL_MS);
  await files.stop();
});

Deno.test("stop cancels the polls and waits for a write in progress; a poll waiting on the cache writes nothing after it", async () => {
  const finishWrite = Promise.withResolvers<void>();
  let writes = 0;
  const { clock, secrets, start } = harness(
    [DB],
    async () => {
      writes++;
      await finishWrite.promise;
    },
  );
  secrets.set("prod/db", "v1", { secretString: "s" });
  const files = start();
  await settle();
  assert.equal(writes, 1);
  let isStopped = false;
  const stopping = files.stop().then(() => isStopped = true);
  await settle();
  assert.equal(isStopped, false, "waits for the write");
  finishWrite.resolve();
  await stopping;
  assert.equal(clock.pendingTimers, 0);

  // A poll in flight when stop is called writes nothing when it returns.
  const second = harness([DB]);
  const answer = Promise.withResolvers<void>();
  second.secrets.set("prod/db", "v1", { secretString: "s" });
  second.secrets.gate = answer.promise;
  const other = second.start();
  await settle();
  await other.stop();
  answer.resolve();
  await settle();
  assert.deepEqual(second.writes, []);
  assert.equal(second.clock.pendingTimers, 0);
});
