import assert from "node:assert/strict";
import { parseRequestJson } from "../../../src/wire/json_errors.ts";

const cases: Array<[string, string]> = [
  ["", "Expecting value: line 1 column 1 (char 0)"],
  ["nope", "Expecting value: line 1 column 1 (char 0)"],
  ['{"module":"test","function":"ping"}{"x":1}', "Extra data: line 1 column 36 (char 35)"],
  ['{"a":1', "Expecting ',' delimiter: line 1 column 7 (char 6)"],
  ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
  ["{a:1}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ['{"a":"x', "Unterminated string starting at: line 1 column 6 (char 5)"],
  ['{"a":1,}', "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"],
  ["[1,]", "Expecting value: line 1 column 4 (char 3)"],
  ['{\n"a":\n}', "Expecting value: line 3 column 1 (char 7)"],
];

for (const [text, message] of cases) {
  Deno.test(`parseRequestJson() reports ${JSON.stringify(text)} as Python does`, () => {
    assert.throws(() => parseRequestJson(text), (e: Error & { errorType?: string }) => {
      assert.equal(e.message, message);
      assert.equal(e.errorType, "JSONDecodeError");
      return true;
    });
  });
}

Deno.test("parseRequestJson() parses 10,000 levels of nesting", () => {
  const deep = "[".repeat(10000) + "]".repeat(10000);
  assert.ok(Array.isArray(parseRequestJson(deep)));
  assert.throws(() => parseRequestJson("[".repeat(10000)), /Expecting value/);
});

Deno.test("parseRequestJson() keeps integers beyond 2^53 as their digits, and other numbers as numbers", () => {
  const r = parseRequestJson(
    '{"a":9007199254740993,"b":-12345678901234567890,"c":1.5,"d":9007199254740991,"e":"12345678901234567","f":1e300}',
  ) as Record<string, unknown>;
  assert.equal(r.a, "9007199254740993");
  assert.equal(r.b, "-12345678901234567890");
  assert.equal(r.c, 1.5);
  assert.equal(r.d, 9007199254740991);
  assert.equal(r.e, "12345678901234567");
  assert.equal(r.f, 1e300);
  assert.deepEqual(parseRequestJson("[12345678901234567890]"), ["12345678901234567890"]);
});
