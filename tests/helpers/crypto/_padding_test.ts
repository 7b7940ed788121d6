/**
 * @module
 * Crypt::CBC's padding modes, for every mode and length.
 */

import assert from "node:assert/strict";
import { pad, unpad } from "../../../helpers/crypto/_padding.ts";

Deno.test("pad()/unpad() follow Crypt::CBC for every mode and length", () => {
  const cases: [string, number, number][] = [ // mode, plaintext length, padded length (bs 8)
    ["standard", 0, 8],
    ["standard", 8, 16],
    ["null", 0, 8],
    ["null", 8, 16],
    ["null", 3, 8],
    ["space", 8, 16],
    ["oneandzeroes", 7, 8],
    ["oneandzeroes", 8, 16],
    ["rijndael_compat", 0, 0],
    ["rijndael_compat", 16, 16],
    ["none", 0, 0],
    ["none", 3, 8],
    ["none", 8, 8],
  ];
  for (const [mode, n, padded] of cases) {
    const data = new Uint8Array(n).fill(0x61);
    const p = pad(mode as never, data, 8);
    assert.equal(p.length, padded, `${mode} ${n}`);
    const back = unpad(mode as never, p, 8);
    assert.equal(back.length, mode === "none" ? padded : n, `${mode} ${n} unpad`);
  }
  assert.throws(
    () => unpad("standard", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 9]), 8),
    /bad padding/,
  );
  assert.throws(
    () => unpad("standard", new Uint8Array([1, 2, 3, 4, 5, 6, 2, 3]), 8),
    /bad padding/,
  );
  assert.throws(() => unpad("oneandzeroes", new Uint8Array(8).fill(7), 8), /bad padding/);
});
