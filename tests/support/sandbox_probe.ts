/**
 * Tries, from inside the agent's sandbox, what code running in the agent must
 * not be able to do (and, as controls, what the agent needs), then prints a
 * JSON report: probe name -> "granted" | "denied" | "error: <what happened>".
 *
 * Run it exactly as the agent runs, from a copy of the project holding
 * deno.json and this file (the set's relative paths resolve against
 * deno.json's folder):
 *
 *   deno run -P=agent --no-prompt tests/support/sandbox_probe.ts --outside-file=/tmp/x
 *
 * Expects, prepared by the caller: `$HOME/notes.txt`, `$HOME/.ssh/id_rsa` and
 * `$HOME/.aws/credentials`, `./config.toml`, and a `SECRET_THING` variable.
 * Network probes only ask `Deno.permissions.query`, except those aimed at
 * loopback addresses: nothing here sends traffic anywhere else.
 *
 * @module
 */

/** What one probe found. */
export type ProbeResult = "granted" | "denied" | `error: ${string}`;

/** Probe name -> result, in the order the probes ran. */
export type SandboxReport = Record<string, ProbeResult>;

/** Options of {@link runSandboxProbes}. */
export interface SandboxProbeOptions {
  /** A path outside every grant that the write probe tries to create. */
  readonly outsideFile: string;
  /** The home folder the read probes look in; default `$HOME`. */
  readonly home?: string;
}

/**
 * The hosts Deno lets any program import code from unless an `import`
 * allow-list replaces them (Deno 2.x defaults): each is a way out.
 */
export const DEFAULT_IMPORT_HOSTS: readonly string[] = [
  "jsr.io:443",
  "deno.land:443",
  "esm.sh:443",
  "raw.esm.sh:443",
  "cdn.jsdelivr.net:443",
  "raw.githubusercontent.com:443",
  "gist.githubusercontent.com:443",
];

/** Hosts the agent must not reach (asked, never contacted). */
export const FORBIDDEN_NET_HOSTS: readonly string[] = [
  "example.com:443",
  "10.0.0.1:80",
  "169.254.169.254:22",
  "amazonaws.com.attacker.example:443",
];

/** Hosts the agent needs: Secrets Manager, STS, instance metadata. */
/** The Unix socket the agent may serve on, and its staging name. */
export const AGENT_SOCKET_FILES: readonly string[] = [
  "/run/awssmaagent/agent.sock",
  "/run/awssmaagent/agent.sock.new",
];

export const NEEDED_NET_HOSTS: readonly string[] = [
  "secretsmanager.us-east-1.amazonaws.com:443",
  "sts.amazonaws.com:443",
  "169.254.169.254:80",
];

/** Runs one real attempt: success is "granted", `NotCapable` is "denied". */
async function attempt(action: () => unknown): Promise<ProbeResult> {
  try {
    await action();
    return "granted";
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return "denied";
    const { name, message } = error instanceof Error
      ? error
      : { name: "thrown", message: String(error) };
    return `error: ${name}: ${message.split("\n")[0]}`;
  }
}

/**
 * Asks about a permission. Under `--no-prompt` a "prompt" state can never
 * become a grant (a request is refused), so only "granted" counts as one.
 */
async function query(
  descriptor: Deno.PermissionDescriptor,
): Promise<ProbeResult> {
  try {
    const { state } = await Deno.permissions.query(descriptor);
    return state === "granted" ? "granted" : "denied";
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Runs every probe and returns the report. */
export async function runSandboxProbes(
  options: SandboxProbeOptions,
): Promise<SandboxReport> {
  const report: SandboxReport = {};
  const home = options.home ?? Deno.env.get("HOME") ?? "";

  // Files outside the grants, then the grants the agent needs.
  report["read /etc/passwd"] = await attempt(() =>
    Deno.readTextFile("/etc/passwd")
  );
  report["read $HOME/notes.txt"] = await attempt(() =>
    Deno.readTextFile(`${home}/notes.txt`)
  );
  report["read $HOME/.ssh/id_rsa"] = await attempt(() =>
    Deno.readTextFile(`${home}/.ssh/id_rsa`)
  );
  report["read ./deno.json"] = await attempt(() =>
    Deno.readTextFile("./deno.json")
  );
  report["query read /root/.ssh"] = await query({
    name: "read",
    path: "/root/.ssh",
  });
  report["query read /"] = await query({ name: "read", path: "/" });
  report["read ./config.toml"] = await attempt(() =>
    Deno.readTextFile("./config.toml")
  );
  report["read $HOME/.aws/credentials"] = await attempt(() =>
    Deno.readTextFile(`${home}/.aws/credentials`)
  );

  report["write ./config.toml"] = await attempt(() =>
    Deno.writeTextFile("./config.toml", "http_port = 1\n", { append: true })
  );
  report["write outside file"] = await attempt(() =>
    Deno.writeTextFile(options.outsideFile, "escaped")
  );
  report["write ./logs/probe.txt"] = await attempt(async () => {
    await Deno.mkdir("./logs", { recursive: true });
    await Deno.writeTextFile("./logs/probe.txt", "inside");
  });
  // A link inside the log folder would make a forbidden file readable there.
  report["symlink ./logs/passwd -> /etc/passwd"] = await attempt(() =>
    Deno.symlink("/etc/passwd", "./logs/passwd")
  );

  for (const host of FORBIDDEN_NET_HOSTS) {
    report[`query net ${host}`] = await query({ name: "net", host });
  }
  for (const host of NEEDED_NET_HOSTS) {
    report[`query net ${host}`] = await query({ name: "net", host });
  }
  report["listen 0.0.0.0"] = await attempt(() =>
    Deno.listen({ hostname: "0.0.0.0", port: 0 }).close()
  );
  // 127.0.0.2 is loopback: were it allowed, the traffic would stay local.
  report["connect 127.0.0.2:9"] = await attempt(async () => {
    const connection = await Deno.connect({ hostname: "127.0.0.2", port: 9 });
    connection.close();
  });
  report["listen 127.0.0.1"] = await attempt(() =>
    Deno.listen({ hostname: "127.0.0.1", port: 0 }).close()
  );
  report["listen [::1]"] = await attempt(() =>
    Deno.listen({ hostname: "::1", port: 0 }).close()
  );
  report["listen unix outside"] = await attempt(() =>
    Deno.listen({ transport: "unix", path: `${options.outsideFile}.sock` })
      .close()
  );
  for (const path of AGENT_SOCKET_FILES) {
    report[`query net unix:${path}`] = await query({
      name: "net",
      host: `unix:${path}`,
    });
    report[`query write ${path}`] = await query({ name: "write", path });
  }
  for (const host of DEFAULT_IMPORT_HOSTS) {
    report[`query import ${host}`] = await query({ name: "import", host });
  }

  report["spawn true"] = await attempt(() =>
    new Deno.Command("true", { stdout: "null", stderr: "null" }).output()
  );
  report["query run"] = await query({ name: "run" });
  report["request run"] = await attempt(async () => {
    const { state } = await Deno.permissions.request({ name: "run" });
    if (state !== "granted") throw new Deno.errors.NotCapable(state);
  });
  report["dlopen libc"] = await attempt(() => Deno.dlopen("libc.so.6", {}));
  report["query ffi"] = await query({ name: "ffi" });

  report["env PATH"] = await attempt(() => Deno.env.get("PATH"));
  report["env SECRET_THING"] = await attempt(() =>
    Deno.env.get("SECRET_THING")
  );
  report["env all"] = await attempt(() => Deno.env.toObject());
  report["env AWS_REGION"] = await attempt(() => Deno.env.get("AWS_REGION"));

  report["sys hostname"] = await attempt(() => Deno.hostname());
  report["sys osRelease"] = await attempt(() => Deno.osRelease());
  report["sys umask"] = await attempt(() => Deno.umask());
  return report;
}

if (import.meta.main) {
  const flag = Deno.args.find((arg) => arg.startsWith("--outside-file="));
  if (flag === undefined) {
    console.error("usage: sandbox_probe.ts --outside-file=PATH");
    Deno.exit(2);
  }
  const report = await runSandboxProbes({
    outsideFile: flag.slice("--outside-file=".length),
  });
  console.log(JSON.stringify(report, null, 2));
}
