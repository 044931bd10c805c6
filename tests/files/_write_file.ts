/**
 * Writes one file with `writeFileAtomically` in a process of its own, for
 * the tests that need another umask, a tracer or narrower grants than the
 * test runner's: `deno run _write_file.ts <path> <octal mode> <text>`.
 * Prints nothing and exits 0 when written; prints the error's message and
 * exits 1 otherwise.
 *
 * @module
 */

import { writeFileAtomically } from "../../src/files/atomic_file.ts";

const [path, mode, text] = Deno.args;
try {
  await writeFileAtomically(path, new TextEncoder().encode(text), {
    mode: parseInt(mode, 8),
  });
} catch (error) {
  console.log(error instanceof Error ? error.message : String(error));
  Deno.exit(1);
}
