/**
 * Grants as the `deno run` flags that carry them, with the reason for each
 * entry as `#` comment lines for the operator reviewing them. The start
 * script drops the comment lines and passes the rest to `deno run`.
 *
 * @module
 */

import type { GrantKind, Grants } from "./grants.ts";

const KINDS: readonly GrantKind[] = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
];

/** Options of {@linkcode formatPermissions}. */
export interface FormatPermissionsOptions {
  /** Whether the dependencies are cached, so the agent starts with `--cached-only`. */
  readonly cachedOnly: boolean;
}

/**
 * The flags, one per line, each kind's reasons as comments above it. Always
 * `--no-prompt` (a missing grant fails, never asks) and `--no-remote` (no
 * code from any host).
 *
 * @example
 * ```ts
 * formatPermissions(grants, { cachedOnly: true }).split("\n").filter((line) => !line.startsWith("#"));
 * // ["--no-prompt", "--no-remote", "--cached-only", "--allow-read=/srv/agent/config.toml,...", ...]
 * ```
 */
export function formatPermissions(
  grants: Grants,
  options: FormatPermissionsOptions,
): string {
  const lines = [
    "# The agent's grants, computed from its configuration and environment.",
    ...grants.notes.map((note) => `# Note: ${note}`),
    "--no-prompt",
    "--no-remote",
    ...(options.cachedOnly ? ["--cached-only"] : []),
  ];
  for (const kind of KINDS) {
    const entries = grants[kind];
    if (entries.length === 0) continue;
    // One comment per reason, naming every entry granted for it.
    const byReason = Map.groupBy(entries, ({ why }) => why);
    for (const [why, group] of byReason) {
      lines.push(
        `# ${kind} ${group.map(({ value }) => value).join(" ")}: ${why}`,
      );
    }
    lines.push(
      `--allow-${kind}=${entries.map(({ value }) => value).join(",")}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
