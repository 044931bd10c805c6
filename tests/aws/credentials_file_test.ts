import assert from "node:assert/strict";
import {
  createCredentialsFileProvider,
  CredentialsFileError,
  type CredentialsFileSystem,
  LongTermKeysRefusedError,
  MAX_CREDENTIALS_FILE_BYTES,
  parseCredentialsFile,
} from "../../src/aws/credentials_file.ts";

const FILE = `# written by aws configure
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secretdefault

[other]
aws_access_key_id=AKIDOTHER
aws_secret_access_key=secretother
aws_session_token = session
`;

Deno.test("parse reads the default profile", () => {
  assert.deepEqual(parseCredentialsFile(FILE, "default"), {
    ok: true,
    credentials: {
      accessKeyId: "AKIDDEFAULT",
      secretAccessKey: "secretdefault",
    },
  });
});

Deno.test("parse reads a named profile with a session token", () => {
  assert.deepEqual(parseCredentialsFile(FILE, "other"), {
    ok: true,
    credentials: {
      accessKeyId: "AKIDOTHER",
      secretAccessKey: "secretother",
      sessionToken: "session",
    },
  });
});

Deno.test("parse reports a profile without keys, never the values", () => {
  const parsed = parseCredentialsFile(
    "[default]\naws_secret_access_key = hidden\n",
    "default",
  );
  assert.equal(parsed.ok, false);
  assert.ok(!parsed.ok && !parsed.problem.includes("hidden"));
  assert.equal(parseCredentialsFile("garbage\n\0\x01", "default").ok, false);
  assert.equal(parseCredentialsFile(FILE, "missing").ok, false);
});

/** An in-memory file whose content, mode and presence the test changes. */
function memoryFile() {
  const state = {
    text: undefined as string | undefined,
    mode: 0o600,
    ino: 1,
    mtime: 1,
    unreadable: false,
    isFile: true,
    reads: 0,
  };
  const fs: CredentialsFileSystem = {
    stat: () => {
      if (state.text === undefined) {
        return Promise.reject(new Deno.errors.NotFound("gone"));
      }
      return Promise.resolve({
        isFile: state.isFile,
        isDirectory: false,
        ino: state.ino,
        size: state.text.length,
        mtime: new Date(state.mtime),
        mode: 0o100000 | state.mode,
      } as Deno.FileInfo);
    },
    readTextFile: () => {
      state.reads++;
      if (state.unreadable) {
        return Promise.reject(new Deno.errors.PermissionDenied("no"));
      }
      return state.text === undefined
        ? Promise.reject(new Deno.errors.NotFound("gone"))
        : Promise.resolve(state.text);
    },
  };
  const write = (text: string) => {
    state.text = text;
    state.mtime++;
  };
  return { state, fs, write };
}

function recordingLog() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    log: {
      warn: (line: string) => warnings.push(line),
      info: (line: string) => infos.push(line),
    },
  };
}

const creds = (id: string) =>
  `[default]\naws_access_key_id=${id}\naws_secret_access_key=s-${id}\n`;

Deno.test("provider reads the file once until it changes, then reloads", async () => {
  const file = memoryFile();
  const { log, infos } = recordingLog();
  file.write(creds("ONE"));
  const provide = createCredentialsFileProvider("/c", { fs: file.fs, log });
  assert.equal((await provide()).accessKeyId, "ONE");
  assert.equal((await provide()).accessKeyId, "ONE");
  assert.equal(file.state.reads, 1);
  file.write(creds("TWO"));
  assert.equal((await provide()).accessKeyId, "TWO");
  assert.equal(file.state.reads, 2);
  assert.equal(infos.length, 1);
});

Deno.test("provider keeps the last good credentials when the file goes bad or away", async () => {
  const file = memoryFile();
  const { log, warnings } = recordingLog();
  file.write(creds("GOOD"));
  const provide = createCredentialsFileProvider("/c", { fs: file.fs, log });
  assert.equal((await provide()).accessKeyId, "GOOD");
  file.write("[default]\nnothing=here\n");
  assert.equal((await provide()).accessKeyId, "GOOD");
  file.state.text = undefined;
  assert.equal((await provide()).accessKeyId, "GOOD");
  assert.equal((await provide()).accessKeyId, "GOOD");
  file.write(creds("BACK"));
  file.state.unreadable = true;
  assert.equal((await provide()).accessKeyId, "GOOD");
  file.state.unreadable = false;
  assert.equal((await provide()).accessKeyId, "BACK");
  assert.equal(warnings.length, 3, warnings.join("\n"));
  assert.ok(warnings.every((line) => !line.includes("s-GOOD")));
});

Deno.test("provider without any good credentials rejects with a clear message", async () => {
  const file = memoryFile();
  const { log } = recordingLog();
  const provide = createCredentialsFileProvider("/etc/creds", {
    fs: file.fs,
    log,
  });
  await assert.rejects(provide(), /No usable credentials in \/etc\/creds/);
  file.write(creds("LATE"));
  assert.equal((await provide()).accessKeyId, "LATE");
});

Deno.test("provider warns when the mode is wider than 0600", async () => {
  const file = memoryFile();
  const { log, warnings } = recordingLog();
  file.state.mode = 0o644;
  file.write(creds("ONE"));
  const provide = createCredentialsFileProvider("/c", { fs: file.fs, log });
  await provide();
  assert.deepEqual(warnings, [
    "Credentials file /c has mode 0644; restrict it to 0600",
  ]);
});

Deno.test("provider marks credentials as expiring so the SDK asks on every call", async () => {
  const file = memoryFile();
  file.write(creds("ONE"));
  const provide = createCredentialsFileProvider("/c", {
    fs: file.fs,
    log: recordingLog().log,
    now: () => 1_000_000,
  });
  const expiration = (await provide()).expiration;
  assert.ok(expiration && expiration.getTime() - 1_000_000 < 300_000);
});

Deno.test("provider works on a real file replaced by atomic rename", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/credentials`;
  try {
    await Deno.writeTextFile(path, creds("FIRST"), { mode: 0o600 });
    const provide = createCredentialsFileProvider(path, {
      log: recordingLog().log,
    });
    assert.equal((await provide()).accessKeyId, "FIRST");
    await Deno.writeTextFile(`${path}.tmp`, creds("SECOND"), { mode: 0o600 });
    await Deno.rename(`${path}.tmp`, path);
    assert.equal((await provide()).accessKeyId, "SECOND");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("provider warns when a chmod alone widens the mode", async () => {
  const file = memoryFile();
  const { log, warnings } = recordingLog();
  file.write(creds("ONE"));
  const provide = createCredentialsFileProvider("/c", { fs: file.fs, log });
  await provide();
  file.state.mode = 0o640;
  assert.equal((await provide()).accessKeyId, "ONE");
  assert.deepEqual(warnings, [
    "Credentials file /c has mode 0640; restrict it to 0600",
  ]);
});

Deno.test("provider never reads a directory, FIFO or oversized file, and keeps the last good credentials", async () => {
  const file = memoryFile();
  const { log, warnings } = recordingLog();
  file.write(creds("GOOD"));
  const provide = createCredentialsFileProvider("/c", { fs: file.fs, log });
  await provide();
  file.state.isFile = false;
  file.write(creds("FIFO"));
  assert.equal((await provide()).accessKeyId, "GOOD");
  file.state.isFile = true;
  file.write(`${creds("HUGE")}${"#".repeat(MAX_CREDENTIALS_FILE_BYTES)}`);
  assert.equal((await provide()).accessKeyId, "GOOD");
  assert.equal(file.state.reads, 1);
  assert.deepEqual(warnings, [
    "Credentials file /c: it is not a regular file",
    `Credentials file /c: it is larger than ${MAX_CREDENTIALS_FILE_BYTES} bytes (${
      creds("HUGE").length + MAX_CREDENTIALS_FILE_BYTES
    })`,
  ]);
});

Deno.test("provider hands each secret it reads to the log's redaction", async () => {
  const file = memoryFile();
  const redacted: string[] = [];
  const { log } = recordingLog();
  file.write(`${creds("ONE")}aws_session_token = token-ONE\n`);
  const provide = createCredentialsFileProvider("/c", {
    fs: file.fs,
    log: { ...log, addRedaction: (value) => redacted.push(value) },
  });
  await provide();
  assert.deepEqual(redacted, ["s-ONE", "token-ONE"]);
});

Deno.test("temporaryOnly refuses long-term keys with a reason to answer, and accepts session credentials", async () => {
  const file = memoryFile();
  const { log, warnings } = recordingLog();
  file.write(creds("LONGTERM"));
  const provide = createCredentialsFileProvider("/c", {
    fs: file.fs,
    log,
    temporaryOnly: true,
  });
  const refused = await provide().then(() => undefined, (error) => error);
  assert.ok(refused instanceof LongTermKeysRefusedError);
  assert.equal(
    refused.message,
    "No usable credentials in /c: profile [default] holds long-term keys (no aws_session_token), refused: credentials_file_temporary_only accepts only temporary credentials",
  );
  assert.ok(!refused.message.includes("s-LONGTERM"));
  assert.equal(warnings.length, 1);

  // Another problem is not a refusal of keys.
  file.write("[default]\nnothing=here\n");
  const broken = await provide().then(() => undefined, (error) => error);
  assert.ok(broken instanceof CredentialsFileError);
  assert.ok(!(broken instanceof LongTermKeysRefusedError));

  file.write(`${creds("TEMP")}aws_session_token = token\n`);
  assert.deepEqual(
    { ...(await provide()), expiration: undefined },
    {
      accessKeyId: "TEMP",
      secretAccessKey: "s-TEMP",
      sessionToken: "token",
      expiration: undefined,
    },
  );
  // Long-term keys later are refused too; the last good ones are kept.
  file.write(creds("LATER"));
  assert.equal((await provide()).accessKeyId, "TEMP");
  assert.match(warnings.at(-1)!, /long-term keys/);
  // Without the option, long-term keys are taken, as the original does.
  const lenient = createCredentialsFileProvider("/c", { fs: file.fs, log });
  assert.equal((await lenient()).accessKeyId, "LATER");
});
