/**
 * @module
 * Crypt::CBC's key derivations (`Crypt::CBC::PBKDF::*`): opensslv1 (OpenSSL's MD5
 * EVP_BytesToKey, the 3.04 default and the only one in 2.x), opensslv2, pbkdf2, randomiv and
 * none, and `set_key_and_iv`, which picks literal or derived key and IV for one message.
 */

import { createHash, pbkdf2 } from "node:crypto";
import { concatBytes } from "../types.ts";
import type { CbcSettings } from "./_cbc_settings.ts";
import { CryptoInputError } from "./_errors.ts";

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes(parts);
}

/** `n` random bytes (salts and IVs). */
export function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** EVP_BytesToKey with one iteration: D_i = H(D_{i-1} || pass || salt). */
function bytesToKey(hash: string, pass: Uint8Array, salt: Uint8Array, len: number): Uint8Array {
  let out = new Uint8Array(0);
  let d = new Uint8Array(0);
  while (out.length < len) {
    d = new Uint8Array(createHash(hash).update(d).update(pass).update(salt).digest());
    out = concat(out, d);
  }
  return out;
}

/** Crypt::CBC::PBKDF::<pbkdf>->key_and_iv(salt, pass). */
export async function keyAndIv(
  s: CbcSettings,
  salt: Uint8Array | undefined,
): Promise<{ key: Uint8Array; iv: Uint8Array }> {
  const ks = s.keySize, bs = s.cipher.blockSize;
  const pass = s.pass ?? new Uint8Array(0);
  const saltBytes = salt ?? new Uint8Array(0);
  let material: Uint8Array;
  switch (s.pbkdf) {
    case "opensslv1":
      material = bytesToKey("md5", pass, saltBytes, ks + bs);
      break;
    case "opensslv2":
      material = bytesToKey("sha256", pass, saltBytes, ks + bs);
      break;
    case "pbkdf2":
      material = await new Promise<Uint8Array>((resolve, reject) =>
        pbkdf2(pass, saltBytes, s.iter, ks + bs, s.hash, (err, key) => {
          if (err) reject(err);
          else resolve(new Uint8Array(key));
        })
      );
      break;
    case "randomiv": {
      // Pre-1.0 OpenSSL: md5(pass), extended with md5 of everything so far; a random IV.
      let m = new Uint8Array(createHash("md5").update(pass).digest());
      while (m.length < ks) m = concat(m, new Uint8Array(createHash("md5").update(m).digest()));
      material = concat(m.subarray(0, ks), random(bs));
      break;
    }
    case "none":
      if (pass.length !== ks) {
        throw new CryptoInputError(`For selected cipher, the key must be exactly ${ks} bytes long`);
      }
      material = pass;
      break;
  }
  return { key: material.subarray(0, ks), iv: material.subarray(ks, ks + bs) };
}

/** set_key_and_iv: the key and IV for a message whose salt is already chosen. */
export async function setKeyAndIv(
  s: CbcSettings,
  salt: Uint8Array,
): Promise<{ key: Uint8Array; iv: Uint8Array }> {
  const bs = s.cipher.blockSize;
  let key: Uint8Array, iv: Uint8Array | undefined;
  if (s.key === undefined) {
    const derived = await keyAndIv(s, salt);
    key = derived.key;
    iv = s.iv ?? derived.iv;
  } else {
    key = s.key;
    iv = s.iv ?? random(bs);
  }
  if (iv.length !== bs) throw new CryptoInputError(`IV must be exactly ${bs} bytes long`);
  return { key, iv };
}
