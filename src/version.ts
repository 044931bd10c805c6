/** The agent's version, shown by `--version`, the start-up line and the user agent. */
export const VERSION = "0.1.0";
