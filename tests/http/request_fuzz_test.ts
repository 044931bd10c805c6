import assert from "node:assert/strict";
import {
  type ParsedRoute,
  parseRoute,
  requestTarget,
} from "../../src/http/request.ts";
import {
  forAll,
  fuzzSettings,
  type SeededRandom,
} from "../support/seeded_random.ts";

const ORIGIN = "http://127.0.0.1:2773";
const PREFIXES = ["/v1/", "/secrets/", "/", "/v1"] as const;
const KNOWN_MESSAGES = new Set([
  "missing parameter secretId",
  "missing secret ID",
  "invalid refreshNow value",
  "invalid ready value",
  // request.ts's own message for a path that is not valid percent-encoded UTF-8.
  "invalid secret ID encoding",
  // Longer than Secrets Manager's maximum: refused before any call to AWS.
  "secret ID longer than 2048 characters",
]);
/** Secrets Manager's longest SecretId. */
const MAX_ID_LENGTH = 2048;

// Pieces of secret ids: names, ARNs, and characters that need encoding.
const ID_PIECES = [
  "prod",
  "db",
  "/",
  "-",
  "_",
  "+",
  "=",
  ".",
  "@",
  "..",
  " ",
  "%",
  "%41",
  "?",
  "&",
  "#",
  ";",
  ":",
  "\\",
  "café",
  "日本",
  "😀",
  "\u0000",
  "\n",
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf",
  "AWSCURRENT",
];

// Values near the accepted refreshNow spellings, and the spellings themselves.
const REFRESH_VALUES = [
  "true",
  "false",
  "1",
  "0",
  "TRUE",
  "tRuE",
  "False",
  "FALSE",
  "",
  " true",
  "true ",
  "yes",
  "on",
  "01",
  "1.0",
  "+1",
  "2",
  "truee",
  "\uff54rue", // fullwidth t
  "fal\u017fe", // long s, which upper-cases to S
  "true\u0000",
];

// Raw pieces of a hostile URL, written as they go on the wire.
const RAW_PIECES = [
  "%00",
  "%G1",
  "%",
  "%%",
  "%4",
  "%E0%A4%A",
  "%FF",
  "%C0%AE",
  "%ED%A0%80",
  "%F4%90%80%80",
  "%2e%2e",
  "%2F",
  "..",
  ".",
  "/",
  "//",
  "\\",
  "a",
  "db",
  "é",
  "😀",
  "\t",
  " ",
  "+",
  "=",
  "&",
  ";",
  "?",
  "#",
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:x/y-AbCdEf",
  "%74rue",
];

const PARAM_NAMES = [
  "ready",
  "secretId",
  "versionId",
  "versionStage",
  "refreshNow",
  "jsonKey",
  "jsonkey",
  "JSONKEY",
  "secretid",
  "SecretId",
  "REFRESHNOW",
  "%73ecretId",
  "secretId%00",
  "secret%49d",
  "",
  "x",
  "__proto__",
  "constructor",
  "secretId ",
];

const HOSTILE_PATHS = [
  "/ping",
  "/PING",
  "/ping/",
  "/secretsmanager/get",
  "/secretsmanager/get/",
  "/secretsmanager/GET",
  "/v1/",
  "/v1",
  "/",
  "/v2/x",
  "/secrets/",
  "/v1/..",
  "/v1/./a",
];

interface Generated {
  readonly url: string;
  readonly prefix: string;
  /** What a well-formed request asked for, when it was built as one. */
  readonly expected?: ParsedRoute;
}

function idPiece(random: SeededRandom): string {
  switch (random.int(0, 5)) {
    case 0:
      return "x".repeat(random.int(1, 5000));
    case 1: {
      const codePoint = random.int(0x20, 0x10ffff);
      // Surrogate code points are not characters: encodeURIComponent refuses them.
      return codePoint >= 0xd800 && codePoint <= 0xdfff
        ? "s"
        : String.fromCodePoint(codePoint);
    }
    default:
      return random.pick(ID_PIECES);
  }
}

function secretId(random: SeededRandom): string {
  const id = random.list(1, 6, () => idPiece(random)).join("");
  return id === "" ? "a" : id;
}

function anyCase(random: SeededRandom, text: string): string {
  return [...text].map((c) => random.chance(0.5) ? c.toUpperCase() : c).join(
    "",
  );
}

/** A request built as a client would, and the lookup it must parse into. */
function wellFormed(random: SeededRandom): Generated {
  const isQueryStyle = random.chance(0.5);
  const prefix = random.pick(PREFIXES);
  const id = secretId(random);
  const params: [string, string][] = [];
  const decoy = () => random.pick(["", "old", secretId(random)]);
  if (isQueryStyle) {
    for (let i = random.int(0, 2); i > 0; i--) {
      params.push(["secretId", decoy()]);
    }
    params.push(["secretId", id]);
  }
  const chosen: Record<string, string> = {};
  for (const name of ["versionId", "versionStage", "refreshNow", "jsonKey"]) {
    if (!random.chance(0.6)) continue;
    const value = name === "refreshNow"
      ? anyCase(random, random.pick(["true", "false", "1", "0"]))
      : name === "jsonKey"
      ? random.pick(["", "password", "db.host", " ", secretId(random)])
      : random.pick(["", "v1", "AWSPREVIOUS", secretId(random)]);
    for (let i = random.int(0, 2); i > 0; i--) {
      params.push([name, name === "refreshNow" ? "junk" : decoy()]);
    }
    params.push([name, value]);
    chosen[name] = value;
  }
  // Shuffle, keeping each parameter's own values in order (the last one wins).
  const order = params.map((p, i) => ({ p, key: random.nextUint32(), i }));
  const byName = new Map<string, number>();
  for (const entry of order) {
    const last = byName.get(entry.p[0]) ?? -1;
    if (entry.key <= last) entry.key = last + 1;
    byName.set(entry.p[0], entry.key);
  }
  order.sort((a, b) => a.key - b.key || a.i - b.i);
  const query = order.map(({ p: [name, value] }) =>
    `${name}=${encodeURIComponent(value)}`
  ).join("&");
  const encodedId = random.chance(0.5)
    ? encodeURIComponent(id)
    : id.split("/").map(encodeURIComponent).join("/");
  const path = isQueryStyle ? "/secretsmanager/get" : `${prefix}${encodedId}`;
  const url = `${ORIGIN}${path}${query === "" ? "" : `?${query}`}`;
  const refreshNow = chosen.refreshNow?.toLowerCase();
  const expected: ParsedRoute = id.length > MAX_ID_LENGTH
    ? bad(`secret ID longer than ${MAX_ID_LENGTH} characters`)
    : {
      ok: true,
      route: {
        kind: "secret",
        lookup: {
          secretId: id,
          refreshNow: refreshNow === "true" || refreshNow === "1",
          ...(chosen.versionId ? { versionId: chosen.versionId } : {}),
          ...(chosen.versionStage ? { versionStage: chosen.versionStage } : {}),
        },
        ...(chosen.jsonKey ? { jsonKey: chosen.jsonKey } : {}),
      },
    };
  // A whole id of "." or ".." is a dot segment that URL parsing removes, and a
  // path that spells another route is that route: the model below covers them.
  const isPlain = isQueryStyle ||
    (![".", ".."].includes(id) && !encodedId.split("/").some(isDotSegment) &&
      !["/ping", "/secretsmanager/get"].includes(new URL(url).pathname));
  return { url, prefix, ...(isPlain ? { expected } : {}) };
}

function isDotSegment(segment: string): boolean {
  return /^(\.|%2e){1,2}$/i.test(segment);
}

/** A URL from hostile pieces: bad escapes, odd names, repeats, long values. */
function hostile(random: SeededRandom): Generated {
  const prefix = random.pick(PREFIXES);
  const raw = () =>
    random.chance(0.2)
      ? `%${random.int(0, 255).toString(16).padStart(2, "0")}`
      : random.chance(0.05)
      ? "y".repeat(random.int(1, 20000))
      : random.pick(RAW_PIECES);
  const path = random.pick(HOSTILE_PATHS) +
    random.list(0, 6, raw).join("").replaceAll("?", "").replaceAll("#", "");
  const parts = random.list(0, 6, () => {
    const name = random.pick(PARAM_NAMES);
    const value = random.chance(0.3)
      ? encodeURIComponent(random.pick(REFRESH_VALUES))
      : random.list(0, 4, raw).join("").replaceAll("#", "");
    return random.pick([`${name}=${value}`, name, `=${value}`, ""]);
  });
  const query = parts.length === 0
    ? ""
    : `?${parts.join(random.pick(["&", "&", "&&", ";"]))}`;
  const fragment = random.chance(0.1) ? "#frag" : "";
  return { url: `${ORIGIN}${path}${query}${fragment}`, prefix };
}

/** Percent-decodes to bytes, then strict UTF-8: an independent decoder. */
function decodePath(encoded: string): string | undefined {
  const encoder = new TextEncoder();
  const [literal, ...escaped] = encoded.split("%");
  const chunks = [encoder.encode(literal)];
  for (const part of escaped) {
    if (!/^[0-9a-fA-F]{2}/.test(part)) return undefined;
    chunks.push(
      Uint8Array.of(parseInt(part.slice(0, 2), 16)),
      encoder.encode(part.slice(2)),
    );
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes,
    );
  } catch {
    return undefined;
  }
}

function bad(body: string): ParsedRoute {
  return { ok: false, rejection: { kind: "bad_request", status: 400, body } };
}

/** The contract's routing rules, written from the contract, to compare with. */
function model(url: URL, prefix: string): ParsedRoute {
  if (url.pathname === "/ping") {
    const ready = url.searchParams.getAll("ready").at(-1);
    if (ready !== undefined && !/^(true|false|1|0)$/i.test(ready)) {
      return bad("invalid ready value");
    }
    return {
      ok: true,
      route: {
        kind: "ping",
        ready: ready !== undefined && /^(true|1)$/i.test(ready),
      },
    };
  }
  const isQueryStyle = url.pathname === "/secretsmanager/get";
  if (!isQueryStyle && !url.pathname.startsWith(prefix)) {
    return {
      ok: false,
      rejection: { kind: "not_found", status: 404, body: "Not found" },
    };
  }
  let pathId: string | undefined;
  if (!isQueryStyle) {
    pathId = decodePath(url.pathname.slice(prefix.length));
    if (pathId === undefined) return bad("invalid secret ID encoding");
  }
  const allowed = ["versionId", "versionStage", "refreshNow", "jsonKey"];
  if (isQueryStyle) allowed.push("secretId");
  const names = [...url.searchParams.keys()];
  const unknown = names.find((name) => !allowed.includes(name));
  if (unknown !== undefined) return bad(`unknown parameter: ${unknown}`);
  const last = (name: string) => url.searchParams.getAll(name).at(-1);
  const id = pathId ?? last("secretId") ?? "";
  if (id === "") {
    return bad(
      isQueryStyle ? "missing parameter secretId" : "missing secret ID",
    );
  }
  if (id.length > MAX_ID_LENGTH) {
    return bad(`secret ID longer than ${MAX_ID_LENGTH} characters`);
  }
  const refresh = last("refreshNow");
  if (refresh !== undefined && !/^(true|false|1|0)$/i.test(refresh)) {
    return bad("invalid refreshNow value");
  }
  const versionId = last("versionId");
  const versionStage = last("versionStage");
  // Ours: the field to answer in SecretString's place; empty is not given.
  const jsonKey = last("jsonKey");
  return {
    ok: true,
    route: {
      kind: "secret",
      lookup: {
        secretId: id,
        refreshNow: refresh !== undefined && /^(true|1)$/i.test(refresh),
        ...(versionId ? { versionId } : {}),
        ...(versionStage ? { versionStage } : {}),
      },
      ...(jsonKey ? { jsonKey } : {}),
    },
  };
}

/** What holds for every outcome, whatever the input. */
function assertWellTyped(parsed: ParsedRoute, url: URL): void {
  if (parsed.ok) {
    if (parsed.route.kind === "ping") return;
    assert.equal(parsed.route.kind, "secret");
    const { lookup } = parsed.route;
    assert.equal(typeof lookup.secretId, "string");
    assert.notEqual(lookup.secretId, "", "a returned secretId is never empty");
    assert.equal(typeof lookup.refreshNow, "boolean");
    for (const field of ["versionId", "versionStage"] as const) {
      if (field in lookup) assert.notEqual(lookup[field], "");
    }
    assert.ok(!("jsonKey" in lookup), "jsonKey never reaches the cache key");
    if ("jsonKey" in parsed.route) assert.notEqual(parsed.route.jsonKey, "");
    return;
  }
  const { rejection } = parsed;
  if (rejection.kind === "not_found") {
    assert.deepEqual(rejection, {
      kind: "not_found",
      status: 404,
      body: "Not found",
    });
    return;
  }
  assert.equal(rejection.kind, "bad_request");
  assert.equal(rejection.status, 400);
  const unknown = rejection.body.match(/^unknown parameter: ([^]*)$/);
  if (unknown) {
    assert.ok(
      [...url.searchParams.keys()].includes(unknown[1]),
      "the unknown parameter named is one of the request's",
    );
  } else {
    assert.ok(KNOWN_MESSAGES.has(rejection.body), rejection.body);
  }
}

function show(input: Generated): string {
  const url = input.url.length > 600
    ? `${input.url.slice(0, 600)}… (${input.url.length} chars)`
    : input.url;
  return `${JSON.stringify(url)} with prefix ${JSON.stringify(input.prefix)}`;
}

function check(input: Generated): void {
  const url = new URL(input.url);
  let parsed: ParsedRoute;
  try {
    parsed = parseRoute(url, input.prefix);
  } catch (error) {
    assert.fail(`parseRoute threw ${error}`);
  }
  assertWellTyped(parsed, url);
  if (input.expected !== undefined) {
    assert.deepEqual(parsed, input.expected, "round trip of what was sent");
  }
  assert.deepEqual(parsed, model(url, input.prefix), "the contract's rules");
}

Deno.test("request parsing: well-formed requests round-trip what the client encoded", () => {
  forAll(fuzzSettings(3000), wellFormed, check, show);
});

Deno.test("request parsing: hostile URLs never throw and get the contract's 400/404 answers", () => {
  forAll(fuzzSettings(5000), hostile, check, show);
});

Deno.test("request parsing: refreshNow is accepted for true, false, 1, 0 in any case only", () => {
  forAll(
    fuzzSettings(2000),
    (random) => {
      const value = random.chance(0.5)
        ? anyCase(random, random.pick(["true", "false", "1", "0"]))
        : random.chance(0.5)
        ? random.pick(REFRESH_VALUES)
        : anyCase(random, random.pick(REFRESH_VALUES)) +
          random.pick(["", " ", "e", "\u0000", "0"]);
      const query = [
        ...random.list(0, 2, () => `refreshNow=${random.pick(["junk", "1"])}`),
        `refreshNow=${encodeURIComponent(value)}`,
      ].join("&");
      return {
        url: `${ORIGIN}/secretsmanager/get?secretId=a&${query}`,
        prefix: "/v1/",
        value,
      };
    },
    ({ url, prefix, value }) => {
      const parsed = parseRoute(new URL(url), prefix);
      const ascii = [...value].every((char) => char.charCodeAt(0) < 0x80);
      const lower = ascii ? value.toLowerCase() : "";
      if (["true", "1"].includes(lower) || ["false", "0"].includes(lower)) {
        assert.ok(parsed.ok && parsed.route.kind === "secret");
        assert.equal(
          parsed.route.lookup.refreshNow,
          lower === "true" || lower === "1",
        );
      } else {
        assert.deepEqual(parsed, bad("invalid refreshNow value"));
      }
    },
    ({ url }) => JSON.stringify(url),
  );
});

// Origins as Deno.serve builds them from the Host header, valid or not.
const TARGET_ORIGINS = [
  "http://127.0.0.1:2773",
  "http://127.0.0.1",
  "http://127.0.0.1:",
  "http://127.0.0.1:065535",
  "http://127.0.0.1:65536",
  "http://127.0.0.1:99999",
  "http://localhost:2773",
  "http://LOCALHOST:2773",
  "http://127.0.0.1.:2773",
  "http://999.0.0.1",
  "http://[::1]:2773",
  "http://example.com",
] as const;
// Characters WHATWG parsing keeps, drops, encodes or reinterprets.
const TARGET_PIECES = [
  ..."abcXYZ019/-_~!$&()*+,;=:@?%.'\"<>`{}|^[]\\# \t\n\r\0",
  "é",
  "\u2028",
  "%2e",
  "%2E",
  ".%2e",
  "..",
  "%41",
  "%zz",
  "secretsmanager/get",
  "secretId=",
] as const;

Deno.test("requestTarget splits any URL exactly as WHATWG URL parsing does, or refuses it when URL does", () => {
  forAll(
    fuzzSettings(5000),
    (random) => {
      const rest = random.list(0, 12, () => random.pick(TARGET_PIECES)).join(
        "",
      );
      return `${random.pick(TARGET_ORIGINS)}/${rest}`;
    },
    (url) => {
      const parsed = URL.parse(url);
      assert.deepEqual(
        requestTarget(url),
        parsed === null
          ? undefined
          : { pathname: parsed.pathname, search: parsed.search },
      );
    },
  );
});

Deno.test("requestTarget agrees with URL on the requests clients send", () => {
  for (
    const url of [
      `${ORIGIN}/secretsmanager/get?secretId=prod%2Fdb`,
      `${ORIGIN}/secretsmanager/get?secretId=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf&versionStage=AWSPREVIOUS`,
      `${ORIGIN}/v1/prod/db?refreshNow=true`,
      `${ORIGIN}/v1/my.secret`,
      `${ORIGIN}/v1/a/../ping`,
      `${ORIGIN}/ping`,
      `${ORIGIN}/ping?`,
      "http://localhost:2773/v1/db",
    ]
  ) {
    const parsed = new URL(url);
    assert.deepEqual(requestTarget(url), {
      pathname: parsed.pathname,
      search: parsed.search,
    });
  }
  assert.equal(requestTarget("http://127.0.0.1:99999/ping"), undefined);
});
