import assert from "node:assert/strict";
import {
  Counter,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "../../src/metrics/metrics.ts";

Deno.test("the content type is the 0.0.4 text format", () => {
  assert.equal(
    PROMETHEUS_CONTENT_TYPE,
    "text/plain; version=0.0.4; charset=utf-8",
  );
});

Deno.test("an empty registry renders nothing", () => {
  assert.equal(new MetricsRegistry().render(), "");
});

Deno.test("a counter without labels renders 0 from the start, then its total", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("requests_total", "Requests served.", []);
  assert.equal(
    registry.render(),
    "# HELP requests_total Requests served.\n" +
      "# TYPE requests_total counter\n" +
      "requests_total 0\n",
  );
  counter.inc({});
  counter.inc({}, 2.5);
  counter.inc({}, 0);
  assert.equal(
    registry.render(),
    "# HELP requests_total Requests served.\n" +
      "# TYPE requests_total counter\n" +
      "requests_total 3.5\n",
  );
});

Deno.test("a labelled counter has no samples until used, then one per combination in first-seen order", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("responses_total", "Responses.", [
    "method",
    "code",
  ]);
  assert.equal(
    registry.render(),
    "# HELP responses_total Responses.\n# TYPE responses_total counter\n",
  );
  counter.inc({ method: "GET", code: "200" });
  counter.inc({ method: "POST", code: "400" });
  counter.inc({ code: "200", method: "GET" }, 4);
  assert.equal(
    registry.render(),
    "# HELP responses_total Responses.\n" +
      "# TYPE responses_total counter\n" +
      'responses_total{method="GET",code="200"} 5\n' +
      'responses_total{method="POST",code="400"} 1\n',
  );
});

Deno.test("label combinations that join to the same text stay separate series", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("c", "h", ["a", "b"]);
  counter.inc({ a: "1:x", b: "" });
  counter.inc({ a: "", b: "1:x" });
  counter.inc({ a: "1", b: ":x" });
  assert.equal(
    registry.render(),
    "# HELP c h\n# TYPE c counter\n" +
      'c{a="1:x",b=""} 1\nc{a="",b="1:x"} 1\nc{a="1",b=":x"} 1\n',
  );
});

Deno.test("a negative, infinite or NaN increment is refused and changes nothing", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("c", "h", []);
  for (const by of [-1, -0.5, Infinity, -Infinity, NaN]) {
    assert.throws(() => counter.inc({}, by), RangeError);
  }
  assert.equal(registry.render(), "# HELP c h\n# TYPE c counter\nc 0\n");
});

Deno.test("a plain gauge reads its callback at each render", () => {
  const registry = new MetricsRegistry();
  let entries = 3;
  registry.gauge("cache_entries", "Entries held now.", () => entries);
  assert.equal(
    registry.render(),
    "# HELP cache_entries Entries held now.\n" +
      "# TYPE cache_entries gauge\n" +
      "cache_entries 3\n",
  );
  entries = 7;
  assert.equal(
    registry.render(),
    "# HELP cache_entries Entries held now.\n" +
      "# TYPE cache_entries gauge\n" +
      "cache_entries 7\n",
  );
});

Deno.test("a labelled gauge renders the samples its callback yields, in its order", () => {
  const registry = new MetricsRegistry();
  let samples: [Record<"kind", string>, number][] = [];
  registry.gauge("in_flight", "Calls in flight.", ["kind"], () => samples);
  assert.equal(
    registry.render(),
    "# HELP in_flight Calls in flight.\n# TYPE in_flight gauge\n",
  );
  samples = [[{ kind: "get" }, 2], [{ kind: "describe" }, 0]];
  assert.equal(
    registry.render(),
    "# HELP in_flight Calls in flight.\n" +
      "# TYPE in_flight gauge\n" +
      'in_flight{kind="get"} 2\n' +
      'in_flight{kind="describe"} 0\n',
  );
});

Deno.test("numbers render as Prometheus parses them", () => {
  const registry = new MetricsRegistry();
  const values = [0, -0, 42, -7, 0.25, 1e21, 2 ** 70, Infinity, -Infinity, NaN];
  registry.gauge(
    "g",
    "h",
    ["i"],
    () => values.map((value, i) => [{ i: String(i) }, value]),
  );
  assert.equal(
    registry.render(),
    "# HELP g h\n# TYPE g gauge\n" +
      'g{i="0"} 0\n' +
      'g{i="1"} 0\n' +
      'g{i="2"} 42\n' +
      'g{i="3"} -7\n' +
      'g{i="4"} 0.25\n' +
      'g{i="5"} 1000000000000000000000\n' +
      'g{i="6"} 1180591620717411303424\n' +
      'g{i="7"} +Inf\n' +
      'g{i="8"} -Inf\n' +
      'g{i="9"} NaN\n',
  );
});

Deno.test("a histogram renders cumulative buckets, +Inf, sum and count per series", () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram(
    "request_seconds",
    "Request duration.",
    ["route"],
    [1, 0.1, 0.5],
  );
  histogram.observe({ route: "/secretsmanager/get" }, 0.05);
  histogram.observe({ route: "/secretsmanager/get" }, 0.1);
  histogram.observe({ route: "/secretsmanager/get" }, 0.75);
  histogram.observe({ route: "/secretsmanager/get" }, 3);
  histogram.observe({ route: "/ping" }, 0);
  assert.equal(
    registry.render(),
    "# HELP request_seconds Request duration.\n" +
      "# TYPE request_seconds histogram\n" +
      'request_seconds_bucket{route="/secretsmanager/get",le="0.1"} 2\n' +
      'request_seconds_bucket{route="/secretsmanager/get",le="0.5"} 2\n' +
      'request_seconds_bucket{route="/secretsmanager/get",le="1"} 3\n' +
      'request_seconds_bucket{route="/secretsmanager/get",le="+Inf"} 4\n' +
      'request_seconds_sum{route="/secretsmanager/get"} 3.9\n' +
      'request_seconds_count{route="/secretsmanager/get"} 4\n' +
      'request_seconds_bucket{route="/ping",le="0.1"} 1\n' +
      'request_seconds_bucket{route="/ping",le="0.5"} 1\n' +
      'request_seconds_bucket{route="/ping",le="1"} 1\n' +
      'request_seconds_bucket{route="/ping",le="+Inf"} 1\n' +
      'request_seconds_sum{route="/ping"} 0\n' +
      'request_seconds_count{route="/ping"} 1\n',
  );
});

Deno.test("a histogram without labels renders zero buckets from the start", () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram("d", "h", [], [0.5]);
  assert.equal(
    registry.render(),
    "# HELP d h\n# TYPE d histogram\n" +
      'd_bucket{le="0.5"} 0\nd_bucket{le="+Inf"} 0\nd_sum 0\nd_count 0\n',
  );
  histogram.observe({}, 0.25);
  assert.equal(
    registry.render(),
    "# HELP d h\n# TYPE d histogram\n" +
      'd_bucket{le="0.5"} 1\nd_bucket{le="+Inf"} 1\nd_sum 0.25\nd_count 1\n',
  );
});

Deno.test("a non-finite observation is refused", () => {
  const histogram = new MetricsRegistry().histogram("d", "h", [], [1]);
  for (const seconds of [NaN, Infinity, -Infinity]) {
    assert.throws(() => histogram.observe({}, seconds), RangeError);
  }
});

Deno.test("label values escape backslash, quote and newline; help escapes backslash and newline", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("c", 'Say "hi"\\bye\nnow.', ["v"]);
  counter.inc({ v: 'a\\b"c\nd' });
  assert.equal(
    registry.render(),
    '# HELP c Say "hi"\\\\bye\\nnow.\n' +
      "# TYPE c counter\n" +
      'c{v="a\\\\b\\"c\\nd"} 1\n',
  );
});

Deno.test("invalid metric and label names are refused with TypeError", () => {
  const registry = new MetricsRegistry();
  for (const name of ["", "1abc", "a-b", "a b", "é"]) {
    assert.throws(() => registry.counter(name, "h", []), TypeError);
  }
  for (const label of ["", "1a", "a:b", "a-b", "__reserved"]) {
    assert.throws(() => registry.counter("c", "h", [label]), TypeError);
  }
  assert.throws(() => registry.counter("c", "h", ["a", "a"]), TypeError);
  assert.throws(() => registry.histogram("h", "h", ["le"], [1]), TypeError);
  assert.throws(() => registry.gauge("g", "h", ["a-b"], () => []), TypeError);
  // Valid names, for contrast; none of the refused ones was registered.
  registry.counter("a:b_c:1", "h", ["_x", "y1"]);
  registry.counter("c", "h", []);
  registry.histogram("h", "h", [], [1]);
});

Deno.test("a taken family name or histogram sample name is refused with TypeError", () => {
  const registry = new MetricsRegistry();
  registry.counter("x", "h", []);
  registry.counter("d_count", "h", []);
  assert.throws(() => registry.counter("x", "h", []), TypeError);
  assert.throws(() => registry.gauge("x", "h", () => 1), TypeError);
  assert.throws(() => registry.histogram("d", "h", [], [1]), TypeError);
  registry.histogram("e", "h", [], [1]);
  assert.throws(() => registry.counter("e_sum", "h", []), TypeError);
  assert.throws(() => registry.counter("e_bucket", "h", []), TypeError);
});

Deno.test("buckets must be finite and distinct", () => {
  const registry = new MetricsRegistry();
  for (const buckets of [[1, 1], [0, -0], [1, Infinity], [NaN]]) {
    assert.throws(() => registry.histogram("h", "h", [], buckets), RangeError);
  }
});

Deno.test("maxSeries must be a positive integer", () => {
  for (const maxSeries of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => new Counter("c", "h", ["a"], { maxSeries }),
      RangeError,
    );
  }
});

Deno.test("a label value that is not a string is refused", () => {
  const counter = new MetricsRegistry().counter("c", "h", ["a"]);
  const labels = {} as Record<"a", string>;
  assert.throws(() => counter.inc(labels), TypeError);
});

Deno.test("label combinations beyond maxSeries fold into one series labelled other", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("c", "h", ["a", "b"], { maxSeries: 2 });
  counter.inc({ a: "1", b: "1" });
  counter.inc({ a: "2", b: "2" });
  counter.inc({ a: "3", b: "3" });
  counter.inc({ a: "4", b: "4" }, 2);
  counter.inc({ a: "1", b: "1" });
  assert.equal(
    registry.render(),
    "# HELP c h\n# TYPE c counter\n" +
      'c{a="1",b="1"} 2\nc{a="2",b="2"} 1\nc{a="other",b="other"} 3\n',
  );
});

Deno.test("maxSeries defaults to 100 kept combinations", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("c", "h", ["id"]);
  for (let i = 0; i < 150; i++) counter.inc({ id: `secret-${i}` });
  const lines = registry.render().trimEnd().split("\n");
  assert.equal(lines.length, 2 + 100 + 1);
  assert.equal(lines.at(-2), 'c{id="secret-99"} 1');
  assert.equal(lines.at(-1), 'c{id="other"} 50');
});

Deno.test("a histogram folds overflowing combinations the same way", () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram("d", "h", ["r"], [1], { maxSeries: 1 });
  histogram.observe({ r: "a" }, 0.5);
  histogram.observe({ r: "b" }, 2);
  histogram.observe({ r: "c" }, 0.5);
  assert.equal(
    registry.render(),
    "# HELP d h\n# TYPE d histogram\n" +
      'd_bucket{r="a",le="1"} 1\nd_bucket{r="a",le="+Inf"} 1\n' +
      'd_sum{r="a"} 0.5\nd_count{r="a"} 1\n' +
      'd_bucket{r="other",le="1"} 1\nd_bucket{r="other",le="+Inf"} 2\n' +
      'd_sum{r="other"} 2.5\nd_count{r="other"} 2\n',
  );
});

Deno.test("families render in registration order, whatever order they are used in", () => {
  const registry = new MetricsRegistry();
  const first = registry.counter("b_total", "h", ["k"]);
  registry.gauge("a_level", "h", () => 1);
  const third = registry.counter("c_total", "h", []);
  third.inc({});
  first.inc({ k: "z" });
  first.inc({ k: "y" });
  assert.equal(
    registry.render(),
    "# HELP b_total h\n# TYPE b_total counter\n" +
      'b_total{k="z"} 1\nb_total{k="y"} 1\n' +
      "# HELP a_level h\n# TYPE a_level gauge\na_level 1\n" +
      "# HELP c_total h\n# TYPE c_total counter\nc_total 1\n",
  );
});
