import assert from "node:assert/strict";
import {
  bytesToPerl,
  isByteString,
  perlBytes,
  perlPath,
  perlText,
} from "../../../src/sdk/perl_strings.ts";

const ALL = Uint8Array.from({ length: 256 }, (_, i) => i);

Deno.test("perlBytes() takes characters up to U+00FF as the bytes themselves", () => {
  assert.deepEqual([...perlBytes(bytesToPerl(ALL))], [...ALL]);
  assert.deepEqual([...perlBytes("Z\u00c3\u00bcrich")], [0x5a, 0xc3, 0xbc, 0x72, 0x69, 0x63, 0x68]);
  assert.deepEqual([...perlBytes("")], []);
});

Deno.test("perlBytes() encodes a string with a wide character as UTF-8, as Perl prints it", () => {
  assert.deepEqual([...perlBytes("\u00e9\u65e5")], [0xc3, 0xa9, 0xe6, 0x97, 0xa5]);
  assert.deepEqual([...perlBytes("\u{1f600}")], [0xf0, 0x9f, 0x98, 0x80]);
});

Deno.test("bytesToPerl() is ISO-8859-1, not windows-1252", () => {
  const s = bytesToPerl(ALL);
  assert.equal(s.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(s.charCodeAt(i), i);
  assert.equal(bytesToPerl(new Uint8Array(200_000).fill(0x41)).length, 200_000);
});

Deno.test("perlText() decodes a UTF-8 byte string and keeps everything else", () => {
  assert.equal(perlText("\u00e6\u0097\u00a5\u00e6\u009c\u00ac"), "\u65e5\u672c");
  assert.equal(perlText("caf\u00e9"), "caf\u00e9"); // not UTF-8: a Latin-1 character string
  assert.equal(perlText("ascii 0"), "ascii 0");
  assert.equal(perlText("\u00c3\u00a9\u65e5"), "\u00c3\u00a9\u65e5"); // wide: already text
  assert.equal(perlText(""), "");
});

Deno.test("perlPath() names a file by the Perl string's bytes, or refuses non-UTF-8 bytes", () => {
  assert.equal(perlPath("/tmp/Z\u00c3\u00bcrich"), "/tmp/Z\u00fcrich");
  assert.equal(perlPath("/tmp/\u65e5"), "/tmp/\u65e5");
  assert.equal(perlPath("plain"), "plain");
  assert.equal(perlPath("/tmp/caf\u00e9"), undefined); // the lone byte e9
});

Deno.test("isByteString() is true up to U+00FF only", () => {
  assert.equal(isByteString(bytesToPerl(ALL)), true);
  assert.equal(isByteString("\u0100"), false);
});
