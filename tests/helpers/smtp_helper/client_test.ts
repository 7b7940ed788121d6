/**
 * @module
 * The SMTP DATA phase as Net::Cmd's datasend/dataend write it: dot-stuffing and the final line.
 */

import assert from "node:assert/strict";
import { smtpAddr } from "../../../helpers/smtp_helper/mod.ts";
import { dataEnd, stuffChunk } from "../../../helpers/smtp_helper/client.ts";

Deno.test("stuffChunk()/dataEnd() follow Net::Cmd datasend/dataend", () => {
  let last = "";
  let out = "";
  for (const c of [".a\n", ".b\r", "\n.c"]) {
    const r = stuffChunk(c, last);
    out += r.out;
    last = r.last;
  }
  assert.equal(out, "..a\r\n..b\r\n..c");
  assert.equal(dataEnd(last), "\r\n.\r\n");
  assert.equal(dataEnd("\n"), ".\r\n");
  // An empty first chunk puts Net::Cmd at the start of a line: dataend then sends ".\r\n".
  assert.deepEqual(stuffChunk("", ""), { out: "", last: "\n" });
  assert.deepEqual(stuffChunk("", "x"), { out: "", last: "x" });
  assert.equal(smtpAddr("Joe <joe@x.test>"), "<joe@x.test>");
  assert.equal(smtpAddr(" joe@x.test "), "<joe@x.test>");
});
