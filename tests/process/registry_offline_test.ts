/**
 * A start with the dependencies cached contacts no package registry: the
 * agent runs in a network namespace of its own with only a loopback
 * interface, where any registry request fails at once, and it starts as
 * usual without a `Download` line. (Without `--cached-only` in the computed
 * flags, Deno re-fetches npm package metadata at some starts.)
 */

import assert from "node:assert/strict";
import {
  agentEnvironment,
  cacheDir,
  copyProject,
  freePort,
  startTaskCommand,
} from "../support/agent_process.ts";

const START_LIMIT_MS = 30_000;

/**
 * A Deno cache holding the locked packages and none of the registry's
 * package metadata, as `deno install --frozen` leaves it on a fresh
 * machine: each package folder copied from this Deno's cache (Deno does not
 * load packages through links).
 */
async function packagesOnlyCache(): Promise<string> {
  const source = `${await cacheDir()}/npm/registry.npmjs.org`;
  const cache = await Deno.makeTempDir({ prefix: "agent-offline-cache-" });
  const lock = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.lock", import.meta.url)),
  );
  for (const key of Object.keys(lock.npm)) {
    const spec = key.replace(/_.*$/, "");
    const at = spec.lastIndexOf("@");
    const [name, version] = [spec.slice(0, at), spec.slice(at + 1)];
    const folder = `${cache}/npm/registry.npmjs.org/${name}`;
    await Deno.mkdir(folder, { recursive: true });
    const copy = await new Deno.Command("cp", {
      args: ["-R", `${source}/${name}/${version}`, `${folder}/${version}`],
    }).output();
    assert.equal(copy.code, 0, new TextDecoder().decode(copy.stderr));
  }
  return cache;
}

/** Why the namespace cannot be made here, or undefined when it can. */
async function namespaceUnavailable(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "making a network namespace needs root";
  try {
    const { code } = await new Deno.Command("unshare", {
      args: ["--net", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0 ? undefined : "unshare --net is refused on this machine";
  } catch {
    return "unshare (util-linux) is not installed";
  }
}

const unavailable = await namespaceUnavailable();
if (unavailable !== undefined) {
  console.log(`registry_offline_test: skipped, ${unavailable}`);
}

Deno.test({
  name:
    "with the dependencies cached, the agent starts in a network namespace without any network and contacts no registry",
  ignore: unavailable !== undefined,
  fn: async () => {
    const dir = await copyProject({ prefix: "agent-offline-" });
    const cache = await packagesOnlyCache();
    try {
      await Deno.writeTextFile(
        `${dir}/config.toml`,
        `http_port = ${freePort()}\nvalidate_credentials = false\n`,
      );
      const [program, ...args] = await startTaskCommand();
      const child = new Deno.Command("unshare", {
        args: [
          "--net",
          "sh",
          "-c",
          // Loopback only: the listener needs it, and nothing else is there.
          'ip link set lo up && exec "$0" "$@"',
          program,
          ...args,
          "--config",
          "config.toml",
        ],
        cwd: dir,
        clearEnv: true,
        env: {
          ...(await agentEnvironment(dir)),
          DENO_DIR: cache,
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), START_LIMIT_MS);
      const decoder = new TextDecoder();
      const stderr = new Response(child.stderr).text();
      let stdout = "";
      for await (const chunk of child.stdout) {
        stdout += decoder.decode(chunk);
        if (stdout.includes("listening on")) child.kill("SIGTERM");
      }
      const status = await child.status;
      clearTimeout(timer);
      const errors = await stderr;
      assert.match(
        stdout,
        /Agent\/\S+ listening on http:\/\/127\.0\.0\.1:/,
        errors,
      );
      assert.equal(status.code, 0, `${errors}${stdout}`);
      assert.doesNotMatch(errors, /Download|registry\.npmjs\.org/);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(cache, { recursive: true });
    }
  },
});
