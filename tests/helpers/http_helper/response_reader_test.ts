/**
 * @module
 * Reading an HTTP/1.1 response: the whole body, dechunked, 1xx skipped.
 */

import assert from "node:assert/strict";
import { readResponse } from "../../../helpers/http_helper/response_reader.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test("readResponse() waits for the whole body, dechunks, and skips 1xx", () => {
  const full = bytes(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd",
  );
  assert.equal(
    readResponse(full.subarray(0, full.length - 1), { isHead: false, eof: false }),
    undefined,
  );
  const r = readResponse(full, { isHead: false, eof: false });
  assert.deepEqual([r?.status, r?.statusText, latin1(r!.body)], [200, "OK", "abcd"]);
  const ch = bytes(
    "HTTP/1.1 299 \r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n",
  );
  const c = readResponse(ch, { isHead: false, eof: false });
  assert.deepEqual([c?.status, c?.statusText, latin1(c!.body)], [299, "", "abcd"]);
  assert.throws(
    () => readResponse(new Uint8Array(0), { isHead: false, eof: true }),
    /without sending any data/,
  );
});
