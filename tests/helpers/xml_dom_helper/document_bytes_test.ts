/**
 * @module
 * How the XML helpers turn a Perl string's bytes or a file's bytes into a document's text: by the
 * document's declared encoding, refusing invalid UTF-8 and `]]>` in character data.
 */

import assert from "node:assert/strict";
import {
  documentFromFile,
  documentFromPerl,
} from "../../../helpers/xml_dom_helper/document_bytes.ts";

Deno.test("documentFromPerl() decodes a Perl string's bytes by the document's encoding", () => {
  const text = (s: string) => {
    const r = documentFromPerl(s);
    return r.ok ? r.text : `ERROR ${r.error}`;
  };
  // Byte string "\xe6\x97\xa5" (UTF-8 of U+65E5): one character.
  assert.equal(text("<a>\u00e6\u0097\u00a5</a>"), "<a>\u65e5</a>");
  // A wide string is Perl's internal UTF-8: the same text.
  assert.equal(text("<a>\u65e5</a>"), "<a>\u65e5</a>");
  // Invalid UTF-8 and no declaration: the use-utf8 Latin-1 reading.
  assert.equal(text("<a>caf\u00e9</a>"), "<a>caf\u00e9</a>");
  const l1 = '<?xml version="1.0" encoding="ISO-8859-1"?>';
  assert.equal(text(`${l1}<a>\u00e9\u0080</a>`), `${l1}<a>\u00e9\u0080</a>`);
  // As XML::Parser does: a wide string's UTF-8 read as the declared Latin-1.
  assert.equal(text(`${l1}<a>\u00e9\u65e5</a>`), `${l1}<a>\u00c3\u00a9\u00e6\u0097\u00a5</a>`);
  const w = '<?xml version="1.0" encoding="windows-1252"?>';
  assert.equal(text(`${w}<a>\u0080</a>`), `${w}<a>\u20ac</a>`);
  assert.match(
    text('<?xml version="1.0" encoding="nope"?><a/>'),
    /^ERROR Unsupported encoding nope/,
  );
  assert.match(
    text('<?xml version="1.0" encoding="UTF-16"?><a/>'),
    /^ERROR Document labelled UTF-16/,
  );
  assert.match(
    text("<a>\u0001</a>"),
    /^ERROR not well-formed \(invalid token\): character U\+0001/,
  );
  assert.match(text("<a>&#1;</a>"), /^ERROR reference to invalid character number \(&#1;\)/);
  assert.equal(text("<a><![CDATA[&#1;]]></a>"), "<a><![CDATA[&#1;]]></a>");
});

Deno.test("documentFromFile() rejects invalid UTF-8 instead of guessing", () => {
  const r = documentFromFile(new Uint8Array([0x3c, 0x61, 0x3e, 0xe9, 0x3c, 0x2f, 0x61, 0x3e]));
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.error, /not valid UTF-8 \(first bad byte at offset 3\)/);
  const bom = documentFromFile(new Uint8Array([0xef, 0xbb, 0xbf, 0x3c, 0x61, 0x2f, 0x3e]));
  assert.deepEqual(bom, { ok: true, text: "<a/>" });
});

Deno.test("documentFromPerl() refuses ']]>' in character data only", () => {
  assert.equal(documentFromPerl("<r>]]></r>").ok, false);
  assert.equal(documentFromPerl(`<r a="]]>"><![CDATA[x]]><!-- ]]> --></r>`).ok, true);
});
