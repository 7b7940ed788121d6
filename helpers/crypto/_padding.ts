/**
 * @module
 * Crypt::CBC's six padding modes (standard = PKCS#5/7, null, space, oneandzeroes,
 * rijndael_compat, none): what encrypt adds to fill the last block and what decrypt removes.
 */

import type { PaddingMode } from "./_cbc_settings.ts";
import { CryptoInputError } from "./_errors.ts";

/** Pads the plaintext as Crypt::CBC's finish() does (whole blocks out). */
export function pad(mode: PaddingMode, data: Uint8Array, bs: number): Uint8Array {
  const r = data.length % bs;
  const fill = bs - r;
  let byte = 0, marker = false;
  switch (mode) {
    case "standard":
      byte = fill;
      break;
    case "space":
      byte = 32;
      break;
    case "oneandzeroes":
      marker = true;
      break;
    case "null":
      break;
    case "rijndael_compat":
      if (r !== 0) {
        throw new CryptoInputError(
          `When using rijndael_compat padding, plaintext size must be a multiple of ${bs}`,
        );
      }
      return data;
    case "none":
      // Crypt::CBC XORs a short last block with the IV as is, which equals zero-filling it.
      if (r === 0) return data;
      break;
  }
  const out = new Uint8Array(data.length + fill);
  out.set(data);
  out.fill(byte, data.length);
  if (marker) out[data.length] = 0x80;
  return out;
}

/** Removes the padding of the last block as Crypt::CBC does, refusing PKCS#5 garbage. */
export function unpad(mode: PaddingMode, data: Uint8Array, bs: number): Uint8Array {
  const n = data.length;
  const last = n - bs;
  let end = n;
  switch (mode) {
    case "standard": {
      const p = data[n - 1] ?? 0; // no last byte (empty data): no valid pad length either
      let ok = p >= 1 && p <= bs;
      for (let i = n - p; ok && i < n; i++) ok = data[i] === p;
      if (!ok) throw badPadding();
      end = n - p;
      break;
    }
    case "null":
    case "space": {
      const b = mode === "null" ? 0 : 32;
      while (end > last && data[end - 1] === b) end--;
      break;
    }
    case "oneandzeroes":
    case "rijndael_compat": {
      let i = n;
      while (i > last && data[i - 1] === 0) i--;
      if (i > last && data[i - 1] === 0x80) end = i - 1;
      else if (mode === "oneandzeroes") throw badPadding();
      break;
    }
    case "none":
      break;
  }
  return data.subarray(0, end);
}

function badPadding(): CryptoInputError {
  return new CryptoInputError(
    "Decryption operation failed: bad padding (wrong key, wrong cipher or padding mode, or corrupted ciphertext)",
  );
}
