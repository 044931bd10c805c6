/**
 * Whether every npm package of `deno.lock` is already in Deno's cache, so
 * the agent can start with `--cached-only` and never contact a registry
 * (Deno otherwise re-fetches package metadata at some starts, which stalls
 * on a host whose network drops packets). A wrong "no" only costs what
 * Deno does by default: a first start on a fresh clone downloads as usual.
 *
 * @module
 */

type Variables = Readonly<Record<string, string | undefined>>;

/** Deno's cache folder, as `deno info` reports it: `DENO_DIR`, else the platform's cache folder. */
export function denoCacheFolder(env: Variables): string | undefined {
  if (env.DENO_DIR) return env.DENO_DIR;
  if (Deno.build.os === "darwin" && env.HOME) {
    return `${env.HOME}/Library/Caches/deno`;
  }
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/deno`;
  return env.HOME ? `${env.HOME}/.cache/deno` : undefined;
}

/** The `name@version` of each npm package a lock file pins. */
export function lockedPackages(lockText: string): string[] {
  const lock = JSON.parse(lockText) as { npm?: Record<string, unknown> };
  // Keys are "name@version", with "_peer" suffixes for peer-resolved copies;
  // a name may hold "_" (string_decoder), a version never does.
  return Object.keys(lock.npm ?? {}).map((key) => {
    const at = key.indexOf("@", 1);
    return at === -1
      ? key
      : `${key.slice(0, at + 1)}${key.slice(at + 1).replace(/_.*$/, "")}`;
  });
}

/** Whether each locked package has its folder in the npm cache. */
export function dependenciesCached(
  lockPath: URL | string,
  env: Variables,
): boolean {
  const cache = denoCacheFolder(env);
  if (cache === undefined) return false;
  const registry = registryFolder(env.NPM_CONFIG_REGISTRY);
  let packages: string[];
  try {
    packages = lockedPackages(Deno.readTextFileSync(lockPath));
  } catch {
    return false;
  }
  // No package at all means a lock file unlike this project's: say no.
  return packages.length > 0 && packages.every((spec) => {
    const at = spec.lastIndexOf("@");
    const folder = `${cache}/npm/${registry}/${spec.slice(0, at)}/${
      spec.slice(at + 1)
    }`;
    try {
      return Deno.statSync(`${folder}/package.json`).isFile;
    } catch {
      return false;
    }
  });
}

function registryFolder(url: string | undefined): string {
  try {
    return url ? new URL(url).host : "registry.npmjs.org";
  } catch {
    return "registry.npmjs.org";
  }
}
