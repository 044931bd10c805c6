/**
 * Tries, from inside the agent's sandbox, what code running in the agent must
 * not be able to do (and, as controls, what the agent needs), then prints a
 * JSON report: probe name -> "granted" | "denied" | "error: <what happened>".
 *
 * It stands in for main.ts in a copy of the project, so that the start
 * script runs it exactly as it runs the agent: asked `--print-permissions`,
 * it answers with the agent's own sandbox module; run under the printed
 * grants, it probes. It reads its targets from the deployment: the ports in
 * `./config.toml` (`http_port`, and `# probe-port = N`, another local port
 * with a listener on it), files under `$HOME` (`notes.txt`, `.ssh/id_rsa`,
 * `.aws/credentials`, `.aws/other`), and writes `$HOME/outside.txt` if it can.
 * Network probes only ask `Deno.permissions.query`, except those aimed at
 * loopback addresses: nothing here sends traffic anywhere else.
 *
 * @module
 */

/** What one probe found. */
export type ProbeResult = "granted" | "denied" | `error: ${string}`;

/** Probe name -> result, in the order the probes ran. */
export type SandboxReport = Record<string, ProbeResult>;

/** Hosts the agent must not reach (asked, never contacted). */
export const FORBIDDEN_NET_HOSTS: readonly string[] = [
  "example.com:443",
  "10.0.0.1:80",
  "attacker.s3.amazonaws.com:443",
  "s3.amazonaws.com:443",
  "secretsmanager.eu-west-1.amazonaws.com:443",
  "sts.us-east-1.amazonaws.com:80",
  "169.254.169.254:80",
  "169.254.169.254:22",
  "amazonaws.com.attacker.example:443",
];

/** Hosts the probed deployment needs: Secrets Manager and STS of its region. */
export const NEEDED_NET_HOSTS: readonly string[] = [
  "secretsmanager.us-east-1.amazonaws.com:443",
  "sts.us-east-1.amazonaws.com:443",
];

/** Remote code the agent must not load: Deno's default import hosts, and a local port. */
export const REMOTE_MODULES: readonly string[] = [
  "https://jsr.io/@std/path/1.0.0/mod.ts",
  "https://deno.land/std/path/mod.ts",
  "https://esm.sh/lodash",
  "http://127.0.0.1:9/x.ts",
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
    // Deno refuses remote code with a TypeError, before any connection:
    // --no-remote, the import grant, or the frozen lock (no new module).
    if (
      /--no-remote is specified|Requires import access|lockfile is out of date/
        .test(message)
    ) {
      return "denied";
    }
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
export async function runSandboxProbes(): Promise<SandboxReport> {
  const report: SandboxReport = {};
  const home = Deno.env.get("HOME") ?? "";
  const config = await Deno.readTextFile("./config.toml");
  const agentPort = Number(/^http_port = (\d+)/m.exec(config)?.[1]);
  const otherPort = Number(/^# probe-port = (\d+)/m.exec(config)?.[1]);

  report["read /etc/passwd"] = await attempt(() =>
    Deno.readTextFile("/etc/passwd")
  );
  for (const file of ["notes.txt", ".ssh/id_rsa", ".aws/other"]) {
    report[`read $HOME/${file}`] = await attempt(() =>
      Deno.readTextFile(`${home}/${file}`)
    );
  }
  report["read ./deno.json"] = await attempt(() =>
    Deno.readTextFile("./deno.json")
  );
  report["read ./src/agent.ts"] = await attempt(() =>
    Deno.readTextFile("./src/agent.ts")
  );
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
  report["write $HOME/outside.txt"] = await attempt(() =>
    Deno.writeTextFile(`${home}/outside.txt`, "escaped")
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
    Deno.listen({ hostname: "0.0.0.0", port: agentPort }).close()
  );
  report["listen 127.0.0.1 on another port"] = await attempt(() =>
    Deno.listen({ hostname: "127.0.0.1", port: 0 }).close()
  );
  report["listen [::1]"] = await attempt(() =>
    Deno.listen({ hostname: "::1", port: agentPort }).close()
  );
  report["listen 127.0.0.1 on the agent's port"] = await attempt(() =>
    Deno.listen({ hostname: "127.0.0.1", port: agentPort }).close()
  );
  report["connect to another local port"] = await attempt(async () => {
    const connection = await Deno.connect({
      hostname: "127.0.0.1",
      port: otherPort,
    });
    connection.close();
  });
  report["listen unix socket"] = await attempt(() =>
    Deno.listen({ transport: "unix", path: `${home}/agent.sock` }).close()
  );
  for (const specifier of REMOTE_MODULES) {
    report[`import ${specifier}`] = await attempt(() => import(specifier));
  }

  report["spawn true"] = await attempt(() =>
    new Deno.Command("true", { stdout: "null", stderr: "null" }).output()
  );
  report["spawn /bin/sh"] = await attempt(() =>
    new Deno.Command("/bin/sh", { args: ["-c", "true"] }).output()
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
  report["env MY_TOKEN"] = await attempt(() => Deno.env.get("MY_TOKEN"));

  report["sys hostname"] = await attempt(() => Deno.hostname());
  report["sys umask"] = await attempt(() => Deno.umask());
  report["sys osRelease"] = await attempt(() => Deno.osRelease());
  return report;
}

if (import.meta.main) {
  if (Deno.args.includes("--print-permissions")) {
    // In place of main.ts at the project's root: the agent's sandbox module.
    const { permissionsText } = await import(
      new URL("src/sandbox/mod.ts", `file://${Deno.cwd()}/`).href
    );
    const config = Deno.args[Deno.args.indexOf("--config") + 1];
    await Deno.stdout.write(
      new TextEncoder().encode(await permissionsText(config)),
    );
  } else {
    console.log(JSON.stringify(await runSandboxProbes(), null, 2));
  }
}
