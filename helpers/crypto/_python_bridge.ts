/**
 * @module
 * The format the old Python bridge (`crypto.py`) wrote, kept so nothing it stored is stranded
 * (helpers contract §3.3 "Exact algorithm"): key text decoded as lenient Base64, else hex, else
 * UTF-8; sized per cipher; output = random IV || CBC(PKCS#7-padded plaintext). It never used
 * Crypt::CBC's headers, key derivation, `iv`, `header` or `padding_mode`.
 */

import type { CipherSpec } from "./_cbc_settings.ts";
import { engineFor } from "./_engine.ts";
import { CryptoInputError } from "./_errors.ts";
import { pad, unpad } from "./_padding.ts";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Python's `base64.b64decode(text)` (binascii.a2b_base64, non-strict): characters outside the
 * alphabet are skipped, a complete pad ends the input, a dangling quad is an error (undefined).
 */
export function lenientBase64(text: string): Uint8Array | undefined {
  if (/[\u0080-\uffff]/.test(text)) return undefined; // str input must be ASCII
  const out: number[] = [];
  let quad = 0, left = 0, pads = 0;
  for (const ch of text) {
    if (ch === "=") {
      if (quad >= 2 && quad + ++pads >= 4) return new Uint8Array(out);
      continue;
    }
    const v = B64.indexOf(ch);
    if (v < 0) continue;
    pads = 0;
    switch (quad) {
      case 0:
        left = v;
        break;
      case 1:
        out.push(((left << 2) | (v >> 4)) & 255);
        left = v & 0x0f;
        break;
      case 2:
        out.push(((left << 4) | (v >> 2)) & 255);
        left = v & 0x03;
        break;
      case 3:
        out.push(((left << 6) | v) & 255);
        break;
    }
    quad = (quad + 1) % 4;
  }
  return quad === 0 ? new Uint8Array(out) : undefined;
}

/** Python's `bytes.fromhex(text)`: hex pairs, ASCII whitespace allowed between pairs. */
export function pythonFromHex(text: string): Uint8Array | undefined {
  if (!/^\s*([0-9a-fA-F]{2}\s*)*$/.test(text)) return undefined;
  const digits = text.replace(/\s+/g, "");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Key text → raw key bytes as `crypto.py` did it. */
export function pythonKeyBytes(text: string): Uint8Array {
  return lenientBase64(text) ?? pythonFromHex(text) ?? new TextEncoder().encode(text);
}

/** Blowfish: zero-fill to 4, cut at 56; AES: zero-fill to 16 or 24, else fill/cut to 32. */
export function pythonSizeKey(raw: Uint8Array, spec: CipherSpec): Uint8Array {
  const size = spec.family === "blowfish"
    ? Math.min(Math.max(raw.length, 4), 56)
    : raw.length <= 16
    ? 16
    : raw.length <= 24
    ? 24
    : 32;
  const out = new Uint8Array(size);
  out.set(raw.subarray(0, size));
  return out;
}

/** Key candidates for old-bridge data, in the order they are tried: never empty. */
export type PythonKeys = [Uint8Array, ...Uint8Array[]];

/**
 * The key bytes `crypto.py` may have used for a key text: as sent, and as the Python daemon
 * saw non-ASCII keys (double-encoded by CPANBridge.pm, C1 controls stripped, contract §2.2/2.6).
 */
export function pythonKeyCandidates(text: string, spec: CipherSpec): PythonKeys {
  const keys: PythonKeys = [pythonSizeKey(pythonKeyBytes(text), spec)];
  if (/[\u0080-\uffff]/.test(text)) {
    const utf8 = new TextEncoder().encode(text);
    const kept = utf8.filter((b) => b > 0x1f && (b < 0x7f || b > 0x9f));
    const mojibake = String.fromCharCode(...kept);
    keys.push(pythonSizeKey(pythonKeyBytes(mojibake), spec));
  }
  return keys;
}

/** Encrypts in the Python bridge format (random IV unless one is given, for tests). */
export async function pythonEncrypt(
  spec: CipherSpec,
  key: Uint8Array,
  plain: Uint8Array,
  iv: Uint8Array = crypto.getRandomValues(new Uint8Array(spec.blockSize)),
): Promise<Uint8Array> {
  const body = await engineFor(spec, key).encrypt(pad("standard", plain, spec.blockSize), iv);
  const out = new Uint8Array(iv.length + body.length);
  out.set(iv);
  out.set(body, iv.length);
  return out;
}

/** Decrypts Python bridge data with the first candidate key whose PKCS#7 padding checks out. */
export async function pythonDecrypt(
  spec: CipherSpec,
  keys: readonly Uint8Array[],
  data: Uint8Array,
): Promise<Uint8Array> {
  const bs = spec.blockSize;
  if (data.length < 2 * bs || data.length % bs !== 0) {
    throw new CryptoInputError(
      `Decryption operation failed: ${data.length} bytes is neither Crypt::CBC data nor old-bridge data (IV + whole ${bs}-byte blocks)`,
    );
  }
  let lastError: unknown;
  for (const key of keys) {
    try {
      const plain = await engineFor(spec, key).decrypt(data.subarray(bs), data.subarray(0, bs));
      return unpad("standard", plain, bs);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
