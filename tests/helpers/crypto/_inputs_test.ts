/**
 * @module
 * How the `crypto` helper reads a ciphertext argument: hex, or raw bytes by their header.
 */

import assert from "node:assert/strict";
import { ciphertextBytes } from "../../../helpers/crypto/_inputs.ts";

const unhex = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

Deno.test("ciphertextBytes() reads hex, and raw bytes by their header or a non-ASCII byte", async () => {
  assert.deepEqual(await ciphertextBytes("00ffAb"), { bytes: unhex("00ffab"), input: "hex" });
  const salted = "Salted__12345678\u00ff\u0000";
  assert.deepEqual(await ciphertextBytes(salted), {
    bytes: new Uint8Array([...new TextEncoder().encode("Salted__12345678"), 255, 0]),
    input: "raw",
  });
  assert.equal((await ciphertextBytes("ab\u0080")).input, "raw");
  await assert.rejects(ciphertextBytes("xyz"), /^CryptoInputError: Invalid hex input/);
  await assert.rejects(ciphertextBytes("Salted__\u65e5"), /characters above U\+00FF/);
});
