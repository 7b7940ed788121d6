/**
 * @module
 * The Blowfish engine of the `crypto` helper against egoroof-blowfish (OpenSSL bf-cbc).
 */

import assert from "node:assert/strict";
import { Blowfish } from "egoroof-blowfish";
import { blowfishEngine } from "../../../helpers/crypto/_engine.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("blowfishEngine() equals egoroof-blowfish (OpenSSL bf-cbc) on random data and keys", async () => {
  for (const len of [4, 8, 16, 56]) {
    const key = crypto.getRandomValues(new Uint8Array(len));
    const iv = crypto.getRandomValues(new Uint8Array(8));
    const data = crypto.getRandomValues(new Uint8Array(8 * 257));
    const ref = new Blowfish(key, Blowfish.MODE.CBC, Blowfish.PADDING.NULL);
    ref.setIv(iv);
    const mine = await blowfishEngine(key).encrypt(data, iv);
    assert.equal(hex(mine), hex(ref.encode(data)));
    assert.equal(hex(await blowfishEngine(key).decrypt(mine, iv)), hex(data));
  }
});
