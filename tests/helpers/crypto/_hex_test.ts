/**
 * @module
 * Hex decoding that validates as it goes, and lowercase encoding.
 */

import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../../../helpers/crypto/_hex.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("hexToBytes() validates while decoding; bytesToHex() is lowercase", async () => {
  assert.equal(hex((await hexToBytes("00ffAb")) as Uint8Array), "00ffab");
  assert.equal(await hexToBytes("abc"), "odd length 3");
  assert.equal(await hexToBytes("a0xz"), "character 'x' at offset 2");
  assert.equal(await hexToBytes("a0\u20acd"), "character '\u20ac' at offset 2");
  assert.equal(await hexToBytes("0g"), "character 'g' at offset 1");
  const big = crypto.getRandomValues(new Uint8Array(65536));
  const long = new Uint8Array(5 << 20);
  for (let i = 0; i < long.length; i += big.length) long.set(big, i);
  const h = await bytesToHex(long);
  assert.equal(h.length, 2 * long.length);
  assert.equal(h.slice(0, 2 * big.length), hex(big));
  assert.deepEqual(await hexToBytes(h), long);
  assert.equal(await bytesToHex(new Uint8Array(0)), "");
  assert.equal(
    await hexToBytes(h.slice(0, -3) + "Z" + h.slice(-2)),
    `character 'Z' at offset ${h.length - 3}`,
  );
});
