/**
 * The locked npm packages as they sit in Deno's cache, for tests that check
 * the sandbox's tables against the SDK's own files.
 *
 * @module
 */

import { lockedPackages } from "../../src/sandbox/dependency_cache.ts";

const LOCK_FILE = new URL("../../deno.lock", import.meta.url);

/** One locked package and its folder in the npm cache. */
export interface CachedPackage {
  readonly name: string;
  readonly version: string;
  readonly folder: string;
}

/** The registry folder of Deno's npm cache, as `deno info --json` names it. */
export async function npmRegistryFolder(): Promise<string> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error(`deno info --json exited with code ${code}`);
  const { npmCache } = JSON.parse(new TextDecoder().decode(stdout)) as {
    npmCache: string;
  };
  const registry = Deno.env.get("NPM_CONFIG_REGISTRY");
  return `${npmCache}/${
    registry ? new URL(registry).host : "registry.npmjs.org"
  }`;
}

/** Every package of `deno.lock`, with its cache folder. */
export async function cachedPackages(): Promise<CachedPackage[]> {
  const registry = await npmRegistryFolder();
  const specs = new Set(lockedPackages(Deno.readTextFileSync(LOCK_FILE)));
  return [...specs].map((spec) => {
    const at = spec.lastIndexOf("@");
    const name = spec.slice(0, at);
    const version = spec.slice(at + 1);
    return { name, version, folder: `${registry}/${name}/${version}` };
  });
}

/** The cache folder of the one locked version of `name`. */
export async function packageFolder(name: string): Promise<string> {
  const found = (await cachedPackages()).filter((pkg) => pkg.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one locked version of ${name}, found ${found.length}`,
    );
  }
  return found[0].folder;
}
