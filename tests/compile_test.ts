/**
 * `deno task compile`: the binary it builds answers `--version`, carries the
 * agent's permission set with prompts off, and passes the process-level HTTP
 * suite (`AGENT_BINARY`).
 *
 * `deno compile` downloads its runtime (`denort`) unless `DENORT_BIN` names
 * one, and CI cannot download: without `DENORT_BIN` these tests are ignored.
 */

import assert from "node:assert/strict";
import { cacheDir, copyProject } from "./support/agent_process.ts";
import { DEFAULT_IMPORT_HOSTS } from "./support/sandbox_probe.ts";
import { VERSION } from "../src/version.ts";

const DENORT_BIN = Deno.env.get("DENORT_BIN");
const BINARY_NAME = "aws_secretsmanager_agent";
const TESTS = new URL("./", import.meta.url);
const ROOT = new URL("../", import.meta.url);
/** The process-level suite to run against the binary, when present. */
const PROCESS_SUITE = "agent_http_test.ts";

if (!DENORT_BIN) {
  console.log(
    "compile_test.ts: skipping the compiled-binary tests: DENORT_BIN is not set " +
      "(deno compile would download denort, the Deno runtime; set DENORT_BIN " +
      "to a denort binary of this Deno version to run them)",
  );
}

const decoder = new TextDecoder();

/** The process suite to run against the binary: agent_http, else any agent_*. */
async function processSuite(): Promise<string> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(TESTS)) {
    if (/^agent_.*_test\.ts$/.test(entry.name)) names.push(entry.name);
  }
  assert.ok(names.length > 0, "no tests/agent_*_test.ts to run");
  return names.includes(PROCESS_SUITE) ? PROCESS_SUITE : names.sort()[0];
}

/** Baked run-time options, as `deno compile` embeds them (Deno 2.x layout). */
interface BakedMetadata {
  readonly permissions: Record<string, unknown>;
}

/** Finds and parses the JSON metadata `deno compile` embeds in the binary. */
async function bakedMetadata(binary: string): Promise<BakedMetadata> {
  const bytes = await Deno.readFile(binary);
  const marker = new TextEncoder().encode('{"argv":');
  const start = indexOf(bytes, marker);
  assert.ok(start >= 0, "no embedded metadata found in the binary");
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b) depth++;
    else if (byte === 0x7d && --depth === 0) {
      return JSON.parse(decoder.decode(bytes.subarray(start, i + 1)));
    }
  }
  throw new Error("the embedded metadata does not end");
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  let at = haystack.indexOf(needle[0]);
  while (at >= 0 && at + needle.length <= haystack.length) {
    if (needle.every((byte, i) => haystack[at + i] === byte)) return at;
    at = haystack.indexOf(needle[0], at + 1);
  }
  return -1;
}

/** A set entry as the binary holds it: relative paths against the build folder. */
function resolved(dir: string, path: string): string {
  return path.startsWith("./") ? `${dir}/${path.slice(2)}` : path;
}

Deno.test({
  name:
    "deno task compile builds a binary that answers --version, bakes the agent's permission set with prompts off, and passes the process-level HTTP suite",
  ignore: !DENORT_BIN,
  fn: async (t) => {
    const dir = await copyProject({ prefix: "compile-" });
    try {
      const compiled = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile"],
        cwd: dir,
        env: { DENORT_BIN: DENORT_BIN ?? "", DENO_DIR: await cacheDir() },
        stdin: "null",
      }).output();
      assert.equal(compiled.code, 0, decoder.decode(compiled.stderr));
      const binary = `${dir}/${BINARY_NAME}`;
      assert.ok((await Deno.stat(binary)).isFile, `${binary} was not built`);

      await t.step("--version prints the agent's version", async () => {
        const { code, stdout, stderr } = await new Deno.Command(binary, {
          args: ["--version"],
          clearEnv: true,
          env: { PATH: "/usr/bin:/bin" },
          stdin: "null",
        }).output();
        assert.equal(code, 0, decoder.decode(stderr));
        assert.equal(decoder.decode(stdout).trim(), VERSION);
      });

      await t.step("the baked permissions are the agent's set", async () => {
        const config = JSON.parse(
          await Deno.readTextFile(new URL("deno.json", ROOT)),
        );
        const set = config.permissions.agent;
        const { permissions: baked } = await bakedMetadata(binary);
        assert.equal(baked.prompt, false, "prompts must be off");
        for (const key of ["allow_run", "allow_ffi"]) {
          assert.equal(baked[key], null, `${key} must not be granted`);
        }
        assert.notEqual(baked.allow_all, true);
        assert.deepEqual(baked.allow_net, set.net);
        assert.deepEqual(baked.allow_env, set.env);
        assert.deepEqual(baked.allow_sys, set.sys);
        assert.deepEqual(
          baked.allow_read,
          set.read.map((path: string) => resolved(dir, path)),
        );
        assert.deepEqual(
          baked.allow_write,
          set.write.map((path: string) => resolved(dir, path)),
        );
        const imports = (baked.allow_import ?? []) as string[];
        assert.deepEqual(
          imports.filter((host) => DEFAULT_IMPORT_HOSTS.includes(host)),
          [],
          "the binary may import code from the default hosts",
        );
      });

      await t.step("the process-level suite passes against it", async () => {
        const suite = await processSuite();
        const { code, stdout, stderr } = await new Deno.Command(
          Deno.execPath(),
          {
            args: [
              "test",
              "--no-prompt",
              "--allow-net=127.0.0.1",
              "--allow-read",
              "--allow-write",
              "--allow-env",
              "--allow-run",
              "--allow-sys",
              `tests/${suite}`,
            ],
            cwd: ROOT,
            env: { AGENT_BINARY: binary, NO_COLOR: "1" },
            stdin: "null",
          },
        ).output();
        assert.equal(
          code,
          0,
          `${suite} failed against ${binary}:\n${
            decoder.decode(stdout).slice(-4000)
          }\n${decoder.decode(stderr).slice(-2000)}`,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
