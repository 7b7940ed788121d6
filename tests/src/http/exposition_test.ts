/**
 * Tests of `Exposition`, the Prometheus text format writer: HELP/TYPE lines, label escaping,
 * special values, and histograms' cumulative buckets.
 */

import assert from "node:assert/strict";
import { Exposition } from "../../../src/http/exposition.ts";

Deno.test("Exposition.family() writes HELP, TYPE and one line per sample", () => {
  const e = new Exposition();
  e.family("a_total", "counter", "Things counted.", 3);
  e.family("b", "gauge", "By kind.", [[{ kind: "x" }, 1], [{ kind: "y", more: "z" }, 2.5]]);
  e.family("c", "gauge", "Nothing yet.", []);
  assert.equal(
    e.toString(),
    [
      "# HELP a_total Things counted.",
      "# TYPE a_total counter",
      "a_total 3",
      "# HELP b By kind.",
      "# TYPE b gauge",
      'b{kind="x"} 1',
      'b{kind="y",more="z"} 2.5',
      "# HELP c Nothing yet.",
      "# TYPE c gauge",
      "",
    ].join("\n"),
  );
});

Deno.test("Exposition.family() escapes backslash, quote and newline in label values", () => {
  const e = new Exposition();
  e.family("m", "gauge", "Odd labels.", [[{ f: 'a"b\\c\nd' }, 1]]);
  assert.match(e.toString(), /^m\{f="a\\"b\\\\c\\nd"\} 1$/m);
});

Deno.test("Exposition.family() writes NaN and infinities as the format spells them", () => {
  const e = new Exposition();
  e.family("n", "gauge", "Special.", [[{ v: "nan" }, NaN], [{ v: "inf" }, Infinity], [
    { v: "-inf" },
    -Infinity,
  ]]);
  const text = e.toString();
  assert.match(text, /^n\{v="nan"\} NaN$/m);
  assert.match(text, /^n\{v="inf"\} \+Inf$/m);
  assert.match(text, /^n\{v="-inf"\} -Inf$/m);
});

Deno.test("Exposition.histogram() writes cumulative buckets, +Inf as the count, sum and count", () => {
  const e = new Exposition();
  e.histogram("h_seconds", "Durations.", {
    bounds: [0.1, 1],
    counts: [2, 1, 4],
    sum: 9.5,
    count: 7,
  });
  assert.equal(
    e.toString(),
    [
      "# HELP h_seconds Durations.",
      "# TYPE h_seconds histogram",
      'h_seconds_bucket{le="0.1"} 2',
      'h_seconds_bucket{le="1"} 3',
      'h_seconds_bucket{le="+Inf"} 7',
      "h_seconds_sum 9.5",
      "h_seconds_count 7",
      "",
    ].join("\n"),
  );
});
