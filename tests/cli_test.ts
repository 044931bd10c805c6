import assert from "node:assert/strict";
import { parseCli, usage } from "../src/cli.ts";

Deno.test("no arguments runs with the defaults", () => {
  assert.deepEqual(parseCli([]), { kind: "run", configPath: undefined });
});

Deno.test("--config and -c name the configuration file", () => {
  const expected = { kind: "run", configPath: "config.toml" };
  assert.deepEqual(parseCli(["--config", "config.toml"]), expected);
  assert.deepEqual(parseCli(["-c", "config.toml"]), expected);
  assert.deepEqual(parseCli(["--config=config.toml"]), expected);
  assert.deepEqual(parseCli(["-cconfig.toml"]), expected);
});

Deno.test("the last --config wins", () => {
  assert.deepEqual(parseCli(["-c", "a.toml", "--config", "b.toml"]), {
    kind: "run",
    configPath: "b.toml",
  });
});

Deno.test("the value after --config is taken as is, even when it starts with a dash", () => {
  assert.deepEqual(parseCli(["--config", "-weird.toml"]), {
    kind: "run",
    configPath: "-weird.toml",
  });
});

Deno.test("--help and -h ask for the usage", () => {
  assert.deepEqual(parseCli(["--help"]), { kind: "help" });
  assert.deepEqual(parseCli(["-h"]), { kind: "help" });
  assert.deepEqual(parseCli(["-c", "config.toml", "--help"]), { kind: "help" });
});

Deno.test("--version asks for the version", () => {
  assert.deepEqual(parseCli(["--version"]), { kind: "version" });
});

Deno.test("--config without a value is 'Argument expected'", () => {
  const expected = { kind: "error", message: "Argument expected" };
  assert.deepEqual(parseCli(["--config"]), expected);
  assert.deepEqual(parseCli(["--config="]), expected);
  assert.deepEqual(parseCli(["-c"]), expected);
  assert.deepEqual(parseCli(["--help", "-c"]), { kind: "help" });
  assert.deepEqual(parseCli(["-c", ""]), expected);
});

Deno.test("an unknown option is named as given", () => {
  for (const arg of ["--bogus", "-x", "--bogus=1", "-v", "--no-help", "--"]) {
    assert.deepEqual(parseCli([arg]), {
      kind: "error",
      message: `Unknown option ${arg}`,
    });
  }
});

Deno.test("a positional argument is an unknown option", () => {
  assert.deepEqual(parseCli(["config.toml"]), {
    kind: "error",
    message: "Unknown option config.toml",
  });
  assert.deepEqual(parseCli(["-c", "a.toml", "extra"]), {
    kind: "error",
    message: "Unknown option extra",
  });
  assert.deepEqual(parseCli(["-"]), {
    kind: "error",
    message: "Unknown option -",
  });
});

Deno.test("a flag given a value is an unknown option", () => {
  assert.deepEqual(parseCli(["--help=yes"]), {
    kind: "error",
    message: "Unknown option --help=yes",
  });
  assert.deepEqual(parseCli(["--version=2"]), {
    kind: "error",
    message: "Unknown option --version=2",
  });
});

Deno.test("arguments are read in order: the first of help or an error decides", () => {
  assert.deepEqual(parseCli(["--help", "--bogus"]), { kind: "help" });
  assert.deepEqual(parseCli(["--bogus", "--help"]), {
    kind: "error",
    message: "Unknown option --bogus",
  });
  assert.deepEqual(parseCli(["--version", "--help"]), { kind: "version" });
  assert.deepEqual(parseCli(["-xh"]), {
    kind: "error",
    message: "Unknown option -xh",
  });
  assert.deepEqual(parseCli(["-hx"]), { kind: "help" });
});

Deno.test("usage names the program", () => {
  assert.equal(
    usage("aws_secretsmanager_agent"),
    "Usage: aws_secretsmanager_agent [--config <file>]",
  );
});

Deno.test("--print-permissions asks for the grants of the agent's run, with the last --config given", () => {
  assert.deepEqual(parseCli(["--print-permissions"]), {
    kind: "permissions",
    configPath: undefined,
    agentRuns: true,
  });
  const expected = {
    kind: "permissions",
    configPath: "b.toml",
    agentRuns: true,
  };
  assert.deepEqual(
    parseCli(["-c", "a.toml", "--print-permissions", "--config", "b.toml"]),
    expected,
  );
  assert.deepEqual(
    parseCli(["--config=b.toml", "--print-permissions"]),
    expected,
  );
  assert.deepEqual(parseCli(["--print-permissions", "-cb.toml"]), expected);
});

Deno.test("--print-permissions given a value is an unknown option", () => {
  for (const arg of ["--print-permissions=x", "--print-permissions="]) {
    assert.deepEqual(parseCli([arg]), {
      kind: "error",
      message: `Unknown option ${arg}`,
    });
  }
});

Deno.test("--print-permissions with help, the version or a bad argument prints grants for no agent run", () => {
  const noRun = {
    kind: "permissions",
    configPath: undefined,
    agentRuns: false,
  };
  for (
    const args of [
      ["--print-permissions", "--help"],
      ["--version", "--print-permissions"],
      ["--print-permissions", "--bogus"],
      ["-c", "a.toml", "--print-permissions", "extra"],
      ["--print-permissions", "-c"],
    ]
  ) {
    assert.deepEqual(parseCli(args), noRun, args.join(" "));
  }
});

Deno.test("the configuration and token are read without loading the AWS SDK, so a bad file fails fast", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "src/agent_settings.ts"],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const graph = JSON.parse(new TextDecoder().decode(output.stdout));
  const loaded = graph.modules.map((m: { specifier: string }) => m.specifier);
  assert.ok(loaded.some((s: string) => s.endsWith("/src/config/config.ts")));
  assert.deepEqual(
    loaded.filter((s: string) => /@(aws-sdk|smithy)\//.test(s)),
    [],
  );
});
