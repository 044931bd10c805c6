/**
 * SDK_ENVIRONMENT against the locked SDK's own code: every environment name
 * the packages of `deno.lock` read must be granted, or Deno throws
 * `NotCapable` where the SDK reads it; and every name granted must be one
 * they read.
 */

import assert from "node:assert/strict";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import { SDK_ENVIRONMENT } from "../../src/sandbox/sdk_environment.ts";
import {
  type CachedPackage,
  cachedPackages,
  packageFolder,
} from "./_sdk_packages.ts";

/** A quoted `AWS_*` or `_X_AMZN_*` literal: how the SDK names most variables. */
const NAME_LITERAL = /["'`]((?:AWS|_X_AMZN)_[A-Z0-9_]+)["'`]/g;
/** `process.env.X`, `process?.env?.X`, and `env.X` in a selector given `process.env`. */
const PROPERTY_READ = /\benv\??\.([A-Z_][A-Z0-9_]*)/g;
/** `const { HOME, USERPROFILE } = process.env`. */
const DESTRUCTURING = /\{([^;\n]*?)\}\s*=\s*process\.env\b/g;
/** A name built at run time, `AWS_BEARER_TOKEN_${...}`: its prefix. */
const NAME_TEMPLATE = /`((?:AWS|_X_AMZN)_[A-Z0-9_]*)\$\{/g;

/**
 * Literals that match {@linkcode NAME_LITERAL} but are not environment
 * names (none in the locked versions; add one here with the reason).
 */
const NOT_ENVIRONMENT: readonly string[] = [];

/**
 * Names built at run time, by prefix, with why none of them is read where
 * the agent runs the SDK.
 */
const TEMPLATE_PREFIXES: Record<string, string> = {
  // fromEnvSigningName, used only by clients with bearer-token auth;
  // the test below proves the agent's clients have none.
  AWS_BEARER_TOKEN_: "bearer tokens of services with bearer-token auth",
};

/** The nested clients the default credential chain builds (not Cognito Identity, used only when asked for). */
const CHAIN_CLIENTS = ["sts", "sso", "sso-oidc", "signin"];

async function javaScriptFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory) files.push(...await javaScriptFiles(path));
      else if (entry.name.endsWith(".js")) files.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files;
}

interface Scan {
  /** Each name read, with the files that read it. */
  readonly names: Map<string, Set<string>>;
  /** Prefixes of names built at run time, with the files that build them. */
  readonly templates: Map<string, Set<string>>;
}

function record(found: Map<string, Set<string>>, name: string, file: string) {
  const files = found.get(name) ?? new Set<string>();
  files.add(file);
  found.set(name, files);
}

async function scanPackages(packages: readonly CachedPackage[]): Promise<Scan> {
  const names = new Map<string, Set<string>>();
  const templates = new Map<string, Set<string>>();
  for (const pkg of packages) {
    for (const path of await javaScriptFiles(`${pkg.folder}/dist-cjs`)) {
      const text = await Deno.readTextFile(path);
      const file = `${pkg.name}@${pkg.version}${path.slice(pkg.folder.length)}`;
      for (const [, name] of text.matchAll(NAME_LITERAL)) {
        record(names, name, file);
      }
      for (const [, name] of text.matchAll(PROPERTY_READ)) {
        record(names, name, file);
      }
      for (const [, list] of text.matchAll(DESTRUCTURING)) {
        for (const part of list.split(",")) {
          const name = part.split(/[=:]/)[0].trim();
          if (name !== "") record(names, name, file);
        }
      }
      for (const [, prefix] of text.matchAll(NAME_TEMPLATE)) {
        record(templates, prefix, file);
      }
    }
  }
  return { names, templates };
}

/** `AWS_ENDPOINT_URL_<SERVICE ID>`, as the SDK's endpoint config builds it. */
function endpointUrlName(serviceId: string): string {
  return [
    "AWS_ENDPOINT_URL",
    ...serviceId.split(" ").map((word) => word.toUpperCase()),
  ]
    .join("_");
}

/** The service IDs of the agent's own clients and of the credential chain's. */
async function serviceIds(): Promise<string[]> {
  const credentials = { accessKeyId: "a", secretAccessKey: "b" };
  const clients = [
    new SecretsManagerClient({ region: "us-east-1", credentials }),
    new STSClient({ region: "us-east-1", credentials }),
    new SSMClient({ region: "us-east-1", credentials }),
  ];
  const ids = clients.map((client) => client.config.serviceId);
  for (const client of clients) client.destroy();
  const nested = await packageFolder("@aws-sdk/nested-clients");
  for (const submodule of CHAIN_CLIENTS) {
    const text = await Deno.readTextFile(
      `${nested}/dist-cjs/submodules/${submodule}/index.js`,
    );
    const match = text.match(/serviceId: config\?\.serviceId \?\? "([^"]+)"/);
    assert.ok(match, `no serviceId in nested client ${submodule}`);
    ids.push(match[1]);
  }
  return ids;
}

const scan = await scanPackages(await cachedPackages());

function describe(files: Set<string> | undefined): string {
  return [...files ?? []].slice(0, 3).join(", ");
}

Deno.test("the scan finds the SDK's environment reads in the locked packages", () => {
  // A scan that found nothing (a moved cache, a new layout) would prove nothing.
  for (
    const name of ["AWS_ACCESS_KEY_ID", "AWS_REGION", "HOME", "AWS_PROFILE"]
  ) {
    assert.ok(scan.names.has(name), `${name} not found`);
  }
});

Deno.test("every environment name the locked SDK code reads is in SDK_ENVIRONMENT", () => {
  const missing = [...scan.names.keys()]
    .filter((name) => !SDK_ENVIRONMENT.includes(name))
    .filter((name) => !NOT_ENVIRONMENT.includes(name))
    .map((name) => `${name} (read in ${describe(scan.names.get(name))})`);
  assert.deepEqual(missing, []);
});

Deno.test("the endpoint URL variable of every service the agent or its credential chain calls is in SDK_ENVIRONMENT", async () => {
  const ids = await serviceIds();
  assert.deepEqual(ids.slice(0, 3), ["Secrets Manager", "STS", "SSM"]);
  const missing = ids.map(endpointUrlName).filter((name) =>
    !SDK_ENVIRONMENT.includes(name)
  );
  assert.deepEqual(missing, []);
});

Deno.test("every name built at run time is one the agent's clients never build", async () => {
  assert.deepEqual(
    [...scan.templates.keys()].filter((prefix) =>
      !(prefix in TEMPLATE_PREFIXES)
    ),
    [],
  );
  // Bearer-token auth is what reads AWS_BEARER_TOKEN_*; the agent's clients have none.
  for (
    const name of [
      "@aws-sdk/client-secrets-manager",
      "@aws-sdk/client-sts",
      "@aws-sdk/client-ssm",
    ]
  ) {
    for (
      const path of await javaScriptFiles(
        `${await packageFolder(name)}/dist-cjs`,
      )
    ) {
      const text = await Deno.readTextFile(path);
      assert.doesNotMatch(text, /fromEnvSigningName|httpBearerAuth/, path);
    }
  }
});

Deno.test("every name of SDK_ENVIRONMENT is one the SDK reads", async () => {
  const endpointNames = (await serviceIds()).map(endpointUrlName);
  const unread = SDK_ENVIRONMENT.filter((name) =>
    !scan.names.has(name) && !endpointNames.includes(name)
  );
  assert.deepEqual(unread, []);
  assert.equal(
    new Set(SDK_ENVIRONMENT).size,
    SDK_ENVIRONMENT.length,
    "a name is listed twice",
  );
});
