/**
 * @module
 * Crypt::CBC 3.04's encrypt and decrypt: the `Salted__` / `RandomIV` / bare headers around
 * CBC of the padded plaintext, so that data moves in both directions between cpan-bridge and real
 * Crypt::CBC. Options are settled in `_cbc_settings.ts`, keys derived in `_cbc_keys.ts`, padding
 * in `_padding.ts`, the ciphers run in `_engine.ts`.
 */

import { concatBytes } from "../types.ts";
import { keyAndIv, random, setKeyAndIv } from "./_cbc_keys.ts";
import type { CbcSettings } from "./_cbc_settings.ts";
import { engineFor } from "./_engine.ts";
import { CryptoInputError, MissingHeaderError } from "./_errors.ts";
import { pad, unpad } from "./_padding.ts";

// Kept importable from here: the settings and padding API of Crypt::CBC.
export { cipherSpec } from "./_cbc_settings.ts";
export { pad, unpad } from "./_padding.ts";

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes(parts);
}

const SALTED = new TextEncoder().encode("Salted__");
const RANDOM_IV = new TextEncoder().encode("RandomIV");

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length + 8) return false;
  return prefix.every((b, i) => data[i] === b);
}

/** Crypt::CBC->encrypt: header + CBC(padded plaintext). */
export async function cbcEncrypt(s: CbcSettings, plain: Uint8Array): Promise<Uint8Array> {
  const bs = s.cipher.blockSize;
  // Local copy: a concurrent call on the same cipher may replace s.salt while we await.
  const salt = s.fixedSalt ?? random(8);
  s.salt = salt;
  const { key, iv } = await setKeyAndIv(s, salt);
  const header = s.header === "salt"
    ? concat(SALTED, salt)
    : s.header === "randomiv"
    ? concat(RANDOM_IV, iv)
    : new Uint8Array(0);
  const body = await engineFor(s.cipher, key).encrypt(pad(s.padding, plain, bs), iv);
  return concat(header, body);
}

/** Crypt::CBC->decrypt: reads the header, derives key and IV, decrypts and unpads. */
export async function cbcDecrypt(s: CbcSettings, data: Uint8Array): Promise<Uint8Array> {
  const bs = s.cipher.blockSize;
  let key: Uint8Array, iv: Uint8Array, body: Uint8Array;
  if (s.header === "salt") {
    if (!startsWith(data, SALTED)) {
      throw new MissingHeaderError(
        "Ciphertext does not begin with a valid header for 'salt' header mode (expected 'Salted__' and an 8-byte salt)",
      );
    }
    const salt = data.slice(8, 16);
    const derived = await keyAndIv(s, salt);
    key = s.key ?? derived.key;
    iv = s.iv ?? derived.iv;
    body = data.subarray(16);
  } else if (s.header === "randomiv") {
    if (!startsWith(data, RANDOM_IV)) {
      throw new MissingHeaderError(
        "Ciphertext does not begin with a valid header for 'randomiv' header mode (expected 'RandomIV' and an 8-byte IV)",
      );
    }
    iv = data.slice(8, 16);
    key = (await keyAndIv(s, undefined)).key;
    body = data.subarray(16);
  } else {
    s.salt ??= random(8);
    ({ key, iv } = await setKeyAndIv(s, s.salt));
    body = data;
  }
  if (iv.length !== bs) {
    throw new CryptoInputError(
      "Could not derive key or iv from cipher stream, and you did not specify these values in new()",
    );
  }
  if (body.length === 0 && s.padding === "rijndael_compat") return body;
  if (body.length === 0 || body.length % bs !== 0) {
    throw new CryptoInputError(
      `Decryption operation failed: ciphertext body of ${body.length} bytes is not a positive multiple of the ${bs}-byte ${s.cipher.name} block (truncated, or not ${s.cipher.name} data)`,
    );
  }
  const plain = await engineFor(s.cipher, key).decrypt(body, iv);
  return unpad(s.padding, plain, bs);
}
