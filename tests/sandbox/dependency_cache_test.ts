import assert from "node:assert/strict";
import {
  denoCacheFolder,
  dependenciesCached,
  lockedPackages,
} from "../../src/sandbox/dependency_cache.ts";

const LOCK = JSON.stringify({
  version: "5",
  specifiers: { "npm:smol-toml@1.9.1": "1.9.1" },
  npm: {
    "smol-toml@1.9.1": { integrity: "sha512-x" },
    "@aws-sdk/core@3.981.0": { integrity: "sha512-y" },
    "@aws-sdk/client-sts@3.1163.0_@aws-sdk+core@3.981.0": {
      integrity: "sha512-z",
    },
    "string_decoder@1.3.0": { integrity: "sha512-w" },
  },
});

const PACKAGES = [
  "smol-toml@1.9.1",
  "@aws-sdk/core@3.981.0",
  "@aws-sdk/client-sts@3.1163.0",
  "string_decoder@1.3.0",
];

/** A DENO_DIR holding the given packages' folders, and a lock file beside it. */
async function cacheWith(
  packages: readonly string[],
  options: { registry?: string; lock?: string } = {},
): Promise<{ folder: string; lockPath: string } & AsyncDisposable> {
  const folder = await Deno.makeTempDir({ prefix: "dependency_cache_test_" });
  for (const spec of packages) {
    const at = spec.lastIndexOf("@");
    const packageFolder = `${folder}/npm/${
      options.registry ?? "registry.npmjs.org"
    }/${spec.slice(0, at)}/${spec.slice(at + 1)}`;
    await Deno.mkdir(packageFolder, { recursive: true });
    await Deno.writeTextFile(`${packageFolder}/package.json`, "{}");
  }
  const lockPath = `${folder}/deno.lock`;
  await Deno.writeTextFile(lockPath, options.lock ?? LOCK);
  return {
    folder,
    lockPath,
    [Symbol.asyncDispose]: () => Deno.remove(folder, { recursive: true }),
  };
}

Deno.test("lockedPackages lists name@version of every npm entry, peer suffixes removed", () => {
  assert.deepEqual(lockedPackages(LOCK), PACKAGES);
  assert.deepEqual(lockedPackages("{}"), []);
});

Deno.test("dependenciesCached is true when every locked package has its folder", async () => {
  await using cache = await cacheWith(PACKAGES);
  assert.equal(
    dependenciesCached(cache.lockPath, { DENO_DIR: cache.folder }),
    true,
  );
});

Deno.test("dependenciesCached is false when one locked package is missing", async () => {
  for (const missing of PACKAGES) {
    await using cache = await cacheWith(
      PACKAGES.filter((spec) => spec !== missing),
    );
    assert.equal(
      dependenciesCached(cache.lockPath, { DENO_DIR: cache.folder }),
      false,
      missing,
    );
  }
});

Deno.test("dependenciesCached is false for a package folder without package.json", async () => {
  await using cache = await cacheWith(PACKAGES.slice(1));
  await Deno.mkdir(`${cache.folder}/npm/registry.npmjs.org/smol-toml/1.9.1`, {
    recursive: true,
  });
  assert.equal(
    dependenciesCached(cache.lockPath, { DENO_DIR: cache.folder }),
    false,
  );
});

Deno.test("dependenciesCached is false for a bad, empty or missing lock file", async () => {
  for (const lock of ["not json", "null", "{}", `{"npm": {}}`]) {
    await using cache = await cacheWith(PACKAGES, { lock });
    assert.equal(
      dependenciesCached(cache.lockPath, { DENO_DIR: cache.folder }),
      false,
      lock,
    );
  }
  await using cache = await cacheWith(PACKAGES);
  assert.equal(
    dependenciesCached(`${cache.folder}/absent.lock`, {
      DENO_DIR: cache.folder,
    }),
    false,
  );
});

Deno.test("dependenciesCached is false without a cache folder", async () => {
  await using cache = await cacheWith(PACKAGES);
  assert.equal(dependenciesCached(cache.lockPath, {}), false);
});

Deno.test("dependenciesCached looks in the folder of NPM_CONFIG_REGISTRY's host", async () => {
  await using cache = await cacheWith(PACKAGES, {
    registry: "npm.internal.example",
  });
  const env = { DENO_DIR: cache.folder };
  assert.equal(dependenciesCached(cache.lockPath, env), false);
  assert.equal(
    dependenciesCached(cache.lockPath, {
      ...env,
      NPM_CONFIG_REGISTRY: "https://npm.internal.example/",
    }),
    true,
  );
});

Deno.test("denoCacheFolder is DENO_DIR, else the platform's cache folder under XDG_CACHE_HOME or HOME", () => {
  assert.equal(
    denoCacheFolder({
      DENO_DIR: "/cache/deno",
      XDG_CACHE_HOME: "/xdg",
      HOME: "/home/u",
    }),
    "/cache/deno",
  );
  if (Deno.build.os === "darwin") {
    assert.equal(
      denoCacheFolder({ HOME: "/Users/u" }),
      "/Users/u/Library/Caches/deno",
    );
  } else {
    assert.equal(
      denoCacheFolder({ XDG_CACHE_HOME: "/xdg", HOME: "/home/u" }),
      "/xdg/deno",
    );
    assert.equal(denoCacheFolder({ HOME: "/home/u" }), "/home/u/.cache/deno");
  }
  assert.equal(denoCacheFolder({}), undefined);
  assert.equal(denoCacheFolder({ DENO_DIR: "", HOME: "" }), undefined);
});

Deno.test("denoCacheFolder agrees with deno info for this process's environment", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(code, 0);
  const { denoDir } = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(denoCacheFolder(Deno.env.toObject()), denoDir);
});

Deno.test("this project's dependencies are in the cache the tests run from", () => {
  // The tests themselves import the locked SDK, so it is cached.
  assert.equal(
    dependenciesCached(
      new URL("../../deno.lock", import.meta.url),
      Deno.env.toObject(),
    ),
    true,
  );
});
