/**
 * @module
 * Perl's number text: `$string + 0` and the printing of NVs (expected values printed by perl 5.36).
 */

import assert from "node:assert/strict";
import { classify } from "../../../helpers/excel/cells.ts";
import { perlNumberText, perlNumify } from "../../../src/sdk/perl_numbers.ts";

Deno.test("perlNumify() gives Perl's text of $string + 0 (expected values printed by perl 5.36)", () => {
  const cases: [string, string][] = [
    ["12345678901234567890", "12345678901234567890"],
    ["9007199254740993", "9007199254740993"],
    ["-0", "0"],
    ["1e400", "Inf"],
    ["0x10", "0"],
    ["  42\n", "42"],
    ["1_000", "1"],
    ["00123", "123"],
    ["1.5e3", "1500"],
    ["-.5", "-0.5"],
    ["18446744073709551616", "1.84467440737096e+19"],
    ["-9223372036854775809", "-9.22337203685478e+18"],
    ["-9223372036854775808", "-9223372036854775808"],
    ["abc", "0"],
    ["", "0"],
    ["1e-5", "1e-05"],
  ];
  for (const [s, want] of cases) assert.equal(perlNumify(s), want, JSON.stringify(s));
});

Deno.test("perlNumberText() prints JSON numbers as Perl does (%.15g for NVs)", () => {
  const cases: [number, string][] = [
    [1e308, "1e+308"],
    [-0, "0"],
    [0.1, "0.1"],
    [1 / 3, "0.333333333333333"],
    [2 ** 64, "1.84467440737096e+19"],
    [1.5e-7, "1.5e-07"],
    [5e-324, "4.94065645841247e-324"],
    [9007199254740991, "9007199254740991"],
  ];
  for (const [n, want] of cases) assert.equal(perlNumberText(n), want, String(n));
  const c = classify("12345678901234567890", "number");
  assert.ok("cell" in c && c.cell.kind === "number" && c.cell.text === "12345678901234567890");
});
