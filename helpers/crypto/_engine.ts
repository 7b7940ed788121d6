/**
 * @module
 * The block ciphers behind the `crypto` helper: AES (node:crypto) and Blowfish (the
 * `egoroof-blowfish` key schedule driven by a tight CBC loop), in raw CBC mode on whole blocks.
 * Padding lives in `_padding.ts`, headers in `_crypt_cbc.ts`. Long inputs are processed in 1 MiB
 * slices with a yield between them, so one 50 MB call does not hold the helper Worker for its
 * whole duration.
 */

import { createCipheriv, createDecipheriv } from "node:crypto";
import { Blowfish } from "egoroof-blowfish";
import type { CipherSpec } from "./_cbc_settings.ts";

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

/** A block cipher in CBC mode for a key. */
export function engineFor(spec: CipherSpec, key: Uint8Array): CbcEngine {
  return spec.family === "aes" ? aesEngine(key) : blowfishEngine(key);
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
        block.set(data.subarray(off, off + 16));
        xorInto(block, prev);
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
      xorInto(out.subarray(0, 16), iv);
      xorInto(out.subarray(16), data);
      return out;
    },
  };
}

/** `target[i] ^= mask[i]` over `target`; `mask` is at least as long (whole blocks, a full IV). */
function xorInto(target: Uint8Array, mask: Uint8Array): void {
  // Both reads are in range: i < target.length <= mask.length.
  for (let i = 0; i < target.length; i++) target[i] = target[i]! ^ mask[i]!;
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
  for (const [i, box] of bf.s.entries()) s.set(box, i * 256);
  return { p: Int32Array.from(bf.p), s };
}

/** Blowfish-CBC with a key of 4 to 56 bytes (Crypt::Blowfish itself accepts 8 to 56). */
export function blowfishEngine(key: Uint8Array): CbcEngine {
  const { p, s } = blowfishSchedule(key);
  // The table reads below are always defined: S-box indices are masked into 0..1023 of the
  // 1024-entry `s`, and subkey indices run over 0..17 of the 18-entry `p`.
  const f = (x: number) =>
    (((s[x >>> 24]! + s[256 | ((x >>> 16) & 255)]!) | 0) ^ s[512 | ((x >>> 8) & 255)]!) +
      s[768 | (x & 255)]! | 0;

  // Blocks are read and written as two big-endian 32-bit words; data is whole 8-byte blocks.
  const run = async (decrypt: boolean, data: Uint8Array, iv: Uint8Array) => {
    const out = new Uint8Array(data.length);
    const src = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const dst = new DataView(out.buffer);
    const ivWords = new DataView(iv.buffer, iv.byteOffset, iv.byteLength);
    let cl = ivWords.getInt32(0);
    let cr = ivWords.getInt32(4);
    for (let off = 0; off < data.length; off += SLICE) {
      if (off > 0) await yieldToLoop();
      const end = Math.min(off + SLICE, data.length);
      for (let i = off; i < end; i += 8) {
        const il = src.getInt32(i);
        const ir = src.getInt32(i + 4);
        let l: number, r: number, ol: number, or: number;
        if (decrypt) {
          l = il;
          r = ir;
          for (let k = 17; k > 1; k -= 2) {
            l ^= p[k]!;
            r ^= f(l);
            r ^= p[k - 1]!;
            l ^= f(r);
          }
          ol = (r ^ p[0]!) ^ cl;
          or = (l ^ p[1]!) ^ cr;
          cl = il;
          cr = ir;
        } else {
          l = il ^ cl;
          r = ir ^ cr;
          for (let k = 0; k < 16; k += 2) {
            l ^= p[k]!;
            r ^= f(l);
            r ^= p[k + 1]!;
            l ^= f(r);
          }
          ol = cl = r ^ p[17]!;
          or = cr = l ^ p[16]!;
        }
        dst.setInt32(i, ol);
        dst.setInt32(i + 4, or);
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
