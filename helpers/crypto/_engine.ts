/**
 * @module
 * The block ciphers behind the `crypto` helper: AES (node:crypto) and Blowfish (the
 * `egoroof-blowfish` key schedule driven by a tight CBC loop), in raw CBC mode on whole blocks.
 * Padding and headers live in `_crypt_cbc.ts`. Long inputs are processed in 1 MiB slices with
 * a yield between them, so one 50 MB call does not hold the helper Worker for its whole duration.
 */

import { createCipheriv, createDecipheriv } from "node:crypto";
import { Blowfish } from "egoroof-blowfish";

/** Bytes processed between two yields to the event loop. */
const SLICE = 1 << 20;

/** Lets other helper calls run between two slices of a long operation. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A block cipher in CBC mode on data that is already a whole number of blocks. */
export interface CbcEngine {
  readonly blockSize: number;
  encrypt(data: Uint8Array, iv: Uint8Array): Promise<Uint8Array>;
  decrypt(data: Uint8Array, iv: Uint8Array): Promise<Uint8Array>;
}

/** AES-128/192/256-CBC through node:crypto (key length picks the variant). */
export function aesEngine(key: Uint8Array): CbcEngine {
  if (key.length === 24) return aes192Engine(key);
  const name = `aes-${key.length * 8}-cbc`;
  const run = async (decrypt: boolean, data: Uint8Array, iv: Uint8Array) => {
    const c = decrypt ? createDecipheriv(name, key, iv) : createCipheriv(name, key, iv);
    c.setAutoPadding(false);
    const out = new Uint8Array(data.length);
    for (let off = 0; off < data.length; off += SLICE) {
      if (off > 0) await yieldToLoop();
      out.set(c.update(data.subarray(off, off + SLICE)), off);
    }
    c.final();
    return out;
  };
  return {
    blockSize: 16,
    encrypt: (data, iv) => run(false, data, iv),
    decrypt: (data, iv) => run(true, data, iv),
  };
}

/**
 * AES-192-CBC built on `aes-192-ecb`, the only 192-bit block mode Deno's node:crypto has.
 * Decryption is one bulk ECB pass plus XOR; encryption chains block by block (slower, rare).
 */
function aes192Engine(key: Uint8Array): CbcEngine {
  const ecb = (decrypt: boolean) => {
    const c = decrypt
      ? createDecipheriv("aes-192-ecb", key, null)
      : createCipheriv("aes-192-ecb", key, null);
    c.setAutoPadding(false);
    return c;
  };
  return {
    blockSize: 16,
    async encrypt(data, iv) {
      const c = ecb(false);
      const out = new Uint8Array(data.length);
      const block = new Uint8Array(16);
      let prev = iv;
      for (let off = 0; off < data.length; off += 16) {
        if (off > 0 && off % SLICE === 0) await yieldToLoop();
        for (let j = 0; j < 16; j++) block[j] = data[off + j] ^ prev[j];
        out.set(c.update(block), off);
        prev = out.subarray(off, off + 16);
      }
      c.final();
      return out;
    },
    async decrypt(data, iv) {
      const c = ecb(true);
      const out = new Uint8Array(data.length);
      for (let off = 0; off < data.length; off += SLICE) {
        if (off > 0) await yieldToLoop();
        out.set(c.update(data.subarray(off, off + SLICE)), off);
      }
      c.final();
      for (let i = 0; i < out.length; i++) out[i] ^= i < 16 ? iv[i] : data[i - 16];
      return out;
    },
  };
}

/** The expanded Blowfish key: 18 subkeys and the four S-boxes laid out in one array. */
interface BlowfishSchedule {
  readonly p: Int32Array;
  readonly s: Int32Array;
}

/**
 * Expands a Blowfish key with egoroof-blowfish (which matches OpenSSL `bf-cbc`) and copies its
 * tables into typed arrays; the library's own per-block code allocates arrays and runs at
 * about 28 MB/s, the loop below at several times that.
 */
function blowfishSchedule(key: Uint8Array): BlowfishSchedule {
  const bf = new Blowfish(key, Blowfish.MODE.ECB, Blowfish.PADDING.NULL) as unknown as {
    p: number[];
    s: number[][];
  };
  const s = new Int32Array(1024);
  for (let i = 0; i < 4; i++) s.set(bf.s[i], i * 256);
  return { p: Int32Array.from(bf.p), s };
}

/** Blowfish-CBC with a key of 4 to 56 bytes (Crypt::Blowfish itself accepts 8 to 56). */
export function blowfishEngine(key: Uint8Array): CbcEngine {
  const { p, s } = blowfishSchedule(key);
  const f = (x: number) =>
    (((s[x >>> 24] + s[256 | ((x >>> 16) & 255)]) | 0) ^ s[512 | ((x >>> 8) & 255)]) +
      s[768 | (x & 255)] | 0;

  const run = async (decrypt: boolean, data: Uint8Array, iv: Uint8Array) => {
    const out = new Uint8Array(data.length);
    let cl = (iv[0] << 24) | (iv[1] << 16) | (iv[2] << 8) | iv[3];
    let cr = (iv[4] << 24) | (iv[5] << 16) | (iv[6] << 8) | iv[7];
    for (let off = 0; off < data.length; off += SLICE) {
      if (off > 0) await yieldToLoop();
      const end = Math.min(off + SLICE, data.length);
      for (let i = off; i < end; i += 8) {
        const il = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
        const ir = (data[i + 4] << 24) | (data[i + 5] << 16) | (data[i + 6] << 8) | data[i + 7];
        let l: number, r: number, ol: number, or: number;
        if (decrypt) {
          l = il;
          r = ir;
          for (let k = 17; k > 1; k -= 2) {
            l ^= p[k];
            r ^= f(l);
            r ^= p[k - 1];
            l ^= f(r);
          }
          ol = (r ^ p[0]) ^ cl;
          or = (l ^ p[1]) ^ cr;
          cl = il;
          cr = ir;
        } else {
          l = il ^ cl;
          r = ir ^ cr;
          for (let k = 0; k < 16; k += 2) {
            l ^= p[k];
            r ^= f(l);
            r ^= p[k + 1];
            l ^= f(r);
          }
          ol = cl = r ^ p[17];
          or = cr = l ^ p[16];
        }
        out[i] = ol >>> 24;
        out[i + 1] = ol >>> 16;
        out[i + 2] = ol >>> 8;
        out[i + 3] = ol;
        out[i + 4] = or >>> 24;
        out[i + 5] = or >>> 16;
        out[i + 6] = or >>> 8;
        out[i + 7] = or;
      }
    }
    return out;
  };
  return {
    blockSize: 8,
    encrypt: (data, iv) => run(false, data, iv),
    decrypt: (data, iv) => run(true, data, iv),
  };
}
