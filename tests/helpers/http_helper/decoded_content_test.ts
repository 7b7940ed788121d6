/**
 * @module
 * `decoded_content` as HTTP::Message does it: bytes for non-text types, text decoded by charset.
 */

import assert from "node:assert/strict";
import zlib from "node:zlib";
import { decodedContent } from "../../../helpers/http_helper/decoded_content.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

Deno.test("decodedContent() keeps bytes for non-text types and decodes text by charset", () => {
  const h = (ct: string): [string, string][] => [["Content-Type", ct]];
  const high = Uint8Array.of(0x41, 0xe9, 0xff);
  assert.equal(decodedContent(high, h("application/octet-stream")), "A\u00e9\u00ff");
  assert.equal(decodedContent(bytes("\u00c3\u00a9"), h("application/json")), "\u00c3\u00a9");
  assert.equal(decodedContent(bytes("\u00c3\u00a9"), h("text/plain; charset=UTF-8")), "\u00e9");
  assert.equal(decodedContent(high, h("text/plain")), "A\u00e9\u00ff");
  assert.equal(decodedContent(high, h("text/plain; charset=no-such")), "A\u00e9\u00ff");
  assert.equal(
    decodedContent(bytes('<?xml version="1.0" encoding="UTF-8"?><a/>'), h("application/xml")),
    '<?xml version="1.0"?><a/>',
  );
  const gz = new Uint8Array(zlib.gzipSync(bytes("\u00e6\u0097\u00a5")));
  assert.equal(
    decodedContent(gz, [["Content-Type", "text/plain; charset=utf-8"], [
      "Content-Encoding",
      "gzip",
    ]]),
    "\u65e5",
  );
});
