import assert from "node:assert/strict";
import {
  emptyHistogram,
  family,
  histogramLines,
  observe,
  PROMETHEUS_CONTENT_TYPE,
  sampleLine,
} from "../../src/metrics/exposition.ts";

Deno.test("the content type is the 0.0.4 text format", () => {
  assert.equal(
    PROMETHEUS_CONTENT_TYPE,
    "text/plain; version=0.0.4; charset=utf-8",
  );
});

Deno.test("a sample without labels has no braces; labels keep their order", () => {
  assert.equal(sampleLine("up", [], 1), "up 1\n");
  assert.equal(
    sampleLine("c", [["b", "1"], ["a", "2"]], 3),
    'c{b="1",a="2"} 3\n',
  );
});

Deno.test("numbers render as Prometheus parses them", () => {
  const values = [0, -0, 42, -7, 0.25, 1e21, 2 ** 70, Infinity, -Infinity, NaN];
  assert.deepEqual(
    values.map((value) => sampleLine("g", [], value)),
    [
      "g 0\n",
      "g 0\n",
      "g 42\n",
      "g -7\n",
      "g 0.25\n",
      "g 1000000000000000000000\n",
      "g 1180591620717411303424\n",
      "g +Inf\n",
      "g -Inf\n",
      "g NaN\n",
    ],
  );
});

Deno.test("label values escape backslash, quote and newline; help escapes backslash and newline", () => {
  assert.equal(
    family("c", 'Say "hi"\\bye\nnow.', "counter", [
      sampleLine("c", [["v", 'a\\b"c\nd']], 1),
    ]),
    '# HELP c Say "hi"\\\\bye\\nnow.\n' +
      "# TYPE c counter\n" +
      'c{v="a\\\\b\\"c\\nd"} 1\n',
  );
});

Deno.test("a family without samples is its two header lines", () => {
  assert.equal(family("g", "h", "gauge", []), "# HELP g h\n# TYPE g gauge\n");
});

Deno.test("a histogram renders cumulative buckets, +Inf, sum and count; a value on a bound counts in that bucket", () => {
  const bounds = [0.1, 0.5, 1];
  const series = emptyHistogram(bounds);
  for (const value of [0.05, 0.1, 0.75, 3]) observe(series, bounds, value);
  assert.equal(
    histogramLines("request_seconds", [["route", "get"]], bounds, series),
    'request_seconds_bucket{route="get",le="0.1"} 2\n' +
      'request_seconds_bucket{route="get",le="0.5"} 2\n' +
      'request_seconds_bucket{route="get",le="1"} 3\n' +
      'request_seconds_bucket{route="get",le="+Inf"} 4\n' +
      'request_seconds_sum{route="get"} 3.9\n' +
      'request_seconds_count{route="get"} 4\n',
  );
});

Deno.test("an empty histogram renders zero buckets", () => {
  assert.equal(
    histogramLines("d", [], [0.5], emptyHistogram([0.5])),
    'd_bucket{le="0.5"} 0\nd_bucket{le="+Inf"} 0\nd_sum 0\nd_count 0\n',
  );
});
