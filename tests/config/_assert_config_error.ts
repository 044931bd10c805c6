/**
 * The config tests' one assertion for a refused file: `parseConfig` throws a
 * `ConfigError` whose message is exactly the one given.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/config.ts";

/** Asserts that `text` is refused with exactly `message`. */
export function assertConfigError(text: string, message: string): void {
  assert.throws(
    () => parseConfig(text),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, message);
      return true;
    },
    text,
  );
}
