/**
 * @module
 * The request head the `http_helper` writes, in LWP/HTTP::Headers' order and case.
 */

import assert from "node:assert/strict";
import { requestHead } from "../../../helpers/http_helper/request_head.ts";

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test("requestHead() writes TE and Connection first, then HTTP::Headers' order and case", () => {
  const head = requestHead({
    method: "POST",
    url: new URL("http://u:p@h.example:8080/a?b"),
    uri: "http://u:p@h.example:8080/a?b",
    headers: { "x-lower": "1", "Content-Type": "text/plain", "User-Agent": "UA", "X_Under": "2" },
    bodyLength: 3,
  });
  assert.equal(
    latin1(head),
    "POST /a?b HTTP/1.1\r\nTE: deflate,gzip;q=0.3\r\nConnection: TE, close\r\n" +
      `Authorization: Basic ${btoa("u:p")}\r\nHost: h.example:8080\r\nUser-Agent: UA\r\n` +
      "Content-Type: text/plain\r\nX-Lower: 1\r\nX-Under: 2\r\nContent-Length: 3\r\n\r\n",
  );
});

Deno.test("requestHead() sends no Content-Length for an empty body and fixes a wrong one", () => {
  const base = { method: "POST", url: new URL("http://h/"), uri: "http://h/" };
  const empty = latin1(requestHead({ ...base, headers: {}, bodyLength: 0 }));
  assert.equal(empty.includes("Content-Length"), false);
  const wrong = latin1(requestHead({ ...base, headers: { "Content-Length": "9" }, bodyLength: 2 }));
  assert.match(wrong, /\r\nContent-Length: 2\r\n\r\n$/);
  assert.equal(wrong.match(/Content-Length/g)?.length, 1);
});
