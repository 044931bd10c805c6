/**
 * The agent's command line: runs the agent (`src/agent.ts`), or prints the
 * permissions its deployment needs (`src/sandbox/`), each loaded only when
 * asked for. Every start-up failure is one line on stderr and exit code 1.
 *
 * @module
 */

import { parseCli, usage } from "./src/cli.ts";
import { describeStartupError } from "./src/startup_error.ts";
import { VERSION } from "./src/version.ts";

const PROGRAM = "aws_secretsmanager_agent";

async function main(args: readonly string[]): Promise<number> {
  const command = parseCli(args);
  switch (command.kind) {
    case "help":
      console.error(usage(PROGRAM));
      return 1;
    case "version":
      console.log(VERSION);
      return 0;
    case "error":
      console.error(`${command.message}\n${usage(PROGRAM)}`);
      return 1;
    case "permissions": {
      const { noGrantsText, permissionsText } = await import(
        "./src/sandbox/mod.ts"
      );
      const text = command.agentRuns
        ? await permissionsText(command.configPath)
        : noGrantsText();
      await Deno.stdout.write(new TextEncoder().encode(text));
      return 0;
    }
    case "run": {
      const { readAgentSettings } = await import("./src/agent_settings.ts");
      const settings = readAgentSettings(command.configPath);
      const { buildAgent, serve } = await import("./src/agent.ts");
      return await serve(await buildAgent(settings));
    }
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(describeStartupError(error));
    Deno.exit(1);
  }
}
