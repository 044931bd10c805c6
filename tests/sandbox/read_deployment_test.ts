/**
 * readDeployment, the sandbox's I/O edge: what it finds at the folders of
 * the `[[file]]` paths, without following a link there.
 */

import assert from "node:assert/strict";
import { readDeployment } from "../../src/sandbox/read_deployment.ts";

Deno.test("readDeployment finds what is at each [[file]] folder: a folder, nothing, a file, a link", async () => {
  const dir = await Deno.makeTempDir({ prefix: "read-deployment-" });
  try {
    await Deno.mkdir(`${dir}/secrets`);
    await Deno.writeTextFile(`${dir}/plain`, "");
    await Deno.symlink(`${dir}/secrets`, `${dir}/linked`);
    const paths = [
      `${dir}/secrets/db`,
      `${dir}/secrets/api`,
      `${dir}/absent/db`,
      `${dir}/plain/db`,
      `${dir}/linked/db`,
    ];
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      paths.map((path, i) =>
        `[[file]]\nsecret_id = "s${i}"\npath = ${JSON.stringify(path)}\n`
      ).join(""),
    );
    const deployment = await readDeployment(`${dir}/config.toml`, {
      env: { HOME: dir },
      workingDirectory: dir,
    });
    assert.deepEqual(
      deployment.fileFolders,
      new Map([
        [`${dir}/secrets`, "folder"],
        [`${dir}/absent`, "missing"],
        [`${dir}/plain`, "not a folder"],
        [`${dir}/linked`, "symbolic link"],
      ]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
