import assert from "node:assert/strict";
import {
  asciiEscapeJson,
  decodeUtf8,
  mayHoldNonAscii,
  repairDoubleEncoding,
  repairString,
} from "../../../src/wire/encoding.ts";

/** What CPANBridge.pm does to a string: UTF-8 bytes, each read back as a Latin-1 character. */
const doubleEncode = (s: string) => String.fromCharCode(...new TextEncoder().encode(s));

Deno.test("repairString() undoes the client's double encoding for any script", () => {
  for (const s of ["café", "naïve Zoë", "世界", "🌍 emoji", "€ ☺", "ascii only"]) {
    assert.equal(repairString(doubleEncode(s)), s);
  }
});

Deno.test("repairString() leaves text that is not double-encoded alone", () => {
  for (const s of ["café", "Ã alone", "世界", "\u00ff\u00fe"]) assert.equal(repairString(s), s);
});

Deno.test("repairDoubleEncoding() repairs keys and nested values iteratively", () => {
  let deep: unknown = doubleEncode("é");
  for (let i = 0; i < 20000; i++) deep = [deep];
  const v = repairDoubleEncoding({
    [doubleEncode("clé")]: { a: [doubleEncode("ü")] },
    deep,
  }) as Record<string, unknown>;
  assert.deepEqual(v["clé"], { a: ["ü"] });
  let x = v.deep;
  while (Array.isArray(x)) x = x[0];
  assert.equal(x, "é");
});

Deno.test("asciiEscapeJson() escapes non-ASCII with surrogate pairs", () => {
  assert.equal(asciiEscapeJson(JSON.stringify("é🌍")), '"\\u00e9\\ud83c\\udf0d"');
  assert.equal(JSON.parse(asciiEscapeJson(JSON.stringify("é🌍"))), "é🌍");
});

Deno.test("decodeUtf8() reports bad bytes as Python's codec does", () => {
  assert.throws(
    () => decodeUtf8(new Uint8Array([0x7b, 0xc3])),
    /'utf-8' codec can't decode byte 0xc3 in position 1: unexpected end of data/,
  );
  assert.throws(
    () => decodeUtf8(new Uint8Array([0xff])),
    /byte 0xff in position 0: invalid start byte/,
  );
  assert.throws(() => decodeUtf8(new Uint8Array([0xc3, 0x28])), /invalid continuation byte/);
});

Deno.test("decodeUtf8() behaviour: ASCII requests (decoded without the decoder) and others agree with strict UTF-8", () => {
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const all = new Uint8Array(128).map((_, i) => i);
  assert.equal(decodeUtf8(all), strict.decode(all));
  const big = new TextEncoder().encode(`{"s":"${"x".repeat(5000)}"}`); // past the fast path
  assert.equal(decodeUtf8(big), strict.decode(big));
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
  assert.equal(decodeUtf8(bom), "\ufeff{}"); // the BOM is kept, as before
  assert.throws(() => decodeUtf8(new Uint8Array([0x7b, 0x80, 0x7d])), /invalid start byte/);
});

Deno.test("mayHoldNonAscii() behaviour: false only where repairDoubleEncoding() would change nothing", () => {
  const enc = new TextEncoder();
  const cafe = doubleEncode("café");
  const cases: Array<[string, boolean]> = [
    ['{"module":"test","function":"ping","params":{},"request_id":"1_2_3"}', false],
    ['{"a":["x",1,2.5,null,{"b":"c d"}]}', false],
    [JSON.stringify({ s: cafe }), true], // raw bytes above 0x7f
    [
      JSON.stringify({ s: cafe }).replace(
        /[\u0080-\u00ff]/g,
        (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
      ),
      true,
    ], // ASCII bytes, \u escapes
    ['{"s":"a\\nb"}', true], // any backslash: looked at
  ];
  for (const [text, may] of cases) {
    const bytes = enc.encode(text);
    assert.equal(mayHoldNonAscii(bytes), may, text);
    const parsed = JSON.parse(text);
    if (!may) assert.deepEqual(repairDoubleEncoding(JSON.parse(text)), parsed, text);
  }
  // The escaped case is one the repair changes: skipping it there would be wrong.
  const escaped = cases[3]![0];
  assert.deepEqual(repairDoubleEncoding(JSON.parse(escaped)), { s: "café" });
});
