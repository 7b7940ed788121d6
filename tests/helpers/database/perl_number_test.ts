/**
 * @module
 * Perl's number text as the `database` helper prints values (DBI + DBD::SQLite 1.72 / DBD::Pg 3.16 on
 * this machine; tests/perl/database_values.t compares end to end).
 */

import assert from "node:assert/strict";
import { perlNvOfText } from "../../../helpers/database/perl_number.ts";
import { perlNumberText, perlNv } from "../../../src/sdk/perl_numbers.ts";

Deno.test("perlNv() prints doubles as Perl 5.36 does (%.15g)", () => {
  const cases: [number, string][] = [
    [0.1 + 0.2, "0.3"],
    [1e300, "1e+300"],
    [-0, "0"],
    [1e15, "1e+15"],
    [1e14, "100000000000000"],
    [1e-5, "1e-05"],
    [123, "123"],
    [2.5e-300, "2.5e-300"],
    [-1.5, "-1.5"],
    [NaN, "NaN"],
    [Infinity, "Inf"],
    [-Infinity, "-Inf"],
  ];
  for (const [n, want] of cases) assert.equal(perlNv(n), want, String(n));
  assert.equal(perlNvOfText("-Infinity"), "-Inf");
  assert.equal(perlNvOfText("0.30000000000000004"), "0.3");
});

Deno.test("perlNumberText() keeps whole numbers in IV range in full", () => {
  assert.equal(perlNumberText(42), "42");
  assert.equal(perlNumberText(2 ** 40), "1099511627776");
  assert.equal(perlNumberText(0.25), "0.25");
  assert.equal(perlNumberText(1e-7), "1e-07");
  assert.equal(perlNumberText(1e300), "1e+300");
});
