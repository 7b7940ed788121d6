/**
 * @module
 * Numbers in node values printed as Perl's %.15g.
 */

import assert from "node:assert/strict";
import { perlNumber } from "../../../helpers/xml_dom_helper/dom.ts";

Deno.test("perlNumber() prints numbers as Perl's %.15g", () => {
  assert.equal(perlNumber(3), "3");
  assert.equal(perlNumber(1 / 3), "0.333333333333333");
  assert.equal(perlNumber(0.5), "0.5");
  assert.equal(perlNumber(1e20), "1e+20");
  assert.equal(perlNumber(NaN), "NaN");
});
