/**
 * @module
 * PostgreSQL values as DBD::Pg 3.16 hands them to Perl: array output, bytea, conversion by type OID
 * (tests/perl/database_values.t compares end to end).
 */

import assert from "node:assert/strict";
import { byteaBytes, parsePgArray, pgWireValue } from "../../../helpers/database/pg_values.ts";

Deno.test("parsePgArray() reads PostgreSQL array output as DBD::Pg expands it", () => {
  assert.deepEqual(parsePgArray("{1,2,3}", "text"), ["1", "2", "3"]);
  assert.deepEqual(parsePgArray('{"a b","c\\"d",NULL,"NULL","x,y","\\\\"}', "text"), [
    "a b",
    'c"d',
    null,
    "NULL",
    "x,y",
    "\\",
  ]);
  assert.deepEqual(parsePgArray("{{1,2},{3,4}}", "text"), [["1", "2"], ["3", "4"]]);
  assert.deepEqual(parsePgArray("{}", "text"), []);
  assert.deepEqual(parsePgArray("[0:1]={5,6}", "text"), ["5", "6"]);
  assert.deepEqual(parsePgArray("{t,f}", "bool"), ["1", "0"]);
  assert.deepEqual(parsePgArray("{1.50,-0}", "nv"), ["1.5", "0"]);
  assert.equal(parsePgArray("{1,2", "text"), undefined, "malformed input is not an array");
  assert.equal(parsePgArray("{{{{{{{1}}}}}}}", "text"), undefined, "more than 6 dimensions");
});

Deno.test("pgWireValue() converts by type OID", () => {
  assert.equal(pgWireValue("t", 16), "1");
  assert.equal(pgWireValue("\\x00ff41", 17), "\u0000\u00ffA");
  assert.equal(pgWireValue("-0", 701), "0");
  assert.equal(pgWireValue("1.50", 1700), "1.50");
  assert.deepEqual(pgWireValue("{0.1,NULL}", 1022), ["0.1", null]);
  assert.equal(pgWireValue(null, 25), null);
  assert.deepEqual(byteaBytes("a\\000\\\\b"), new Uint8Array([0x61, 0, 0x5c, 0x62]));
});
