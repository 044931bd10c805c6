/**
 * Request parsing: `parseRoute` over query-style and path-style URLs.
 *
 * @module
 */

import {
  parseRoute,
  type RequestTarget,
  requestTarget,
} from "../../src/http/request.ts";
import { SECRET_ID } from "./_fixtures.ts";

const PREFIX = "/v1/";
const QUERY = new URL(
  `http://127.0.0.1:2773/secretsmanager/get?secretId=${
    encodeURIComponent(SECRET_ID)
  }`,
);
const QUERY_WITH_STAGE = new URL(`${QUERY.href}&versionStage=AWSPREVIOUS`);
const PATH = new URL(`http://127.0.0.1:2773/v1/${SECRET_ID}`);
const PATH_ENCODED = new URL(
  `http://127.0.0.1:2773/v1/${
    encodeURIComponent(SECRET_ID)
  }?versionStage=AWSPREVIOUS&refreshNow=false`,
);

function mustRoute(target: RequestTarget): void {
  if (!parseRoute(target, PREFIX).ok) {
    throw new Error(`not routed: ${target.pathname}${target.search}`);
  }
}

Deno.bench("parseRoute query style", {
  group: "parse",
  baseline: true,
}, () => mustRoute(QUERY));

Deno.bench("parseRoute query style with versionStage", {
  group: "parse",
}, () => mustRoute(QUERY_WITH_STAGE));

Deno.bench("parseRoute path style", { group: "parse" }, () => mustRoute(PATH));

Deno.bench("parseRoute path style, percent-encoded, two parameters", {
  group: "parse",
}, () => mustRoute(PATH_ENCODED));

Deno.bench("requestTarget + parseRoute query style (a URL not seen before)", {
  group: "parse",
}, () => {
  const target = requestTarget(QUERY.href);
  if (target === undefined) throw new Error("not split");
  mustRoute(target);
});

Deno.bench(
  "new URL + parseRoute query style (WHATWG parsing, for comparison)",
  {
    group: "parse",
  },
  () => mustRoute(new URL(QUERY.href)),
);
