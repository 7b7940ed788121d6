/**
 * @module
 * ASCII-mode transfers as Net::FTP does them: CRLF to LF across chunks, LF to CRLF block by block.
 */

import assert from "node:assert/strict";
import { fromCrlf, toCrlf } from "../../../helpers/ftp_helper/ascii.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

Deno.test("fromCrlf() turns CRLF into LF across chunk boundaries and keeps a lone CR", () => {
  const down = fromCrlf();
  const a = down.push(enc.encode("a\r")), b = down.push(enc.encode("\nb\rc\r")), c = down.end();
  assert.equal(dec.decode(a) + dec.decode(b) + dec.decode(c), "a\nb\rc\r");
});

Deno.test("toCrlf() converts Net::FTP::A::write's way, block by block", () => {
  const run = (input: string, block: number) => {
    const up = toCrlf(block);
    return dec.decode(up.push(enc.encode(input))) + dec.decode(up.end());
  };
  assert.equal(run("l1\nl2\r\nl3\n", 10240), "l1\r\nl2\r\nl3\r\n");
  assert.equal(run("a\rb\nc", 10240), "a\rb\r\nc", "a lone CR stays, no final LF added");
  // A block ending in CR followed by one starting with LF: the LF is not doubled.
  assert.equal(run("x\r\ny", 2), "x\r\ny");
  // Net::FTP's quirk: after a block ending in CR, a leading CR of the next block is dropped.
  assert.equal(run("x\r\r\n", 2), "x\r\n");
  const up = toCrlf(4);
  assert.equal(dec.decode(up.push(enc.encode("ab\n"))), "", "nothing until a full block");
  assert.equal(dec.decode(up.push(enc.encode("c"))), "ab\r\nc");
});
