/**
 * @module
 * Net::FTP's ASCII-mode line-end conversion (Net::FTP::A, libnet 3.14). Downloads turn CRLF into
 * LF and keep a lone CR, carrying a CR that ends a chunk. Uploads copy `Net::FTP::A::write`
 * exactly, block by block as `Net::FTP::put` reads the local file (BlockSize, 10240 bytes): in a
 * block holding any CR or LF, an LF not preceded by a CR in that block becomes CRLF; when the
 * previous block ended with CR, a leading CR of the next converted block is dropped.
 */

import { concatBytes } from "../types.ts";

const CR = 13, LF = 10;

/** Net::FTP's default BlockSize. */
export const NET_FTP_BLOCK_SIZE = 10240;

/** A streaming converter. */
export interface LineConverter {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

/** CRLF → LF (a lone CR is kept), as Net::FTP::A::read. */
export function fromCrlf(): LineConverter {
  let pendingCr = false;
  return {
    push(chunk) {
      const out = new Uint8Array(chunk.length + 1);
      let n = 0;
      for (const b of chunk) {
        if (pendingCr) {
          pendingCr = false;
          if (b !== LF) out[n++] = CR;
        }
        if (b === CR) pendingCr = true;
        else out[n++] = b;
      }
      return out.subarray(0, n);
    },
    end() {
      const tail = pendingCr ? Uint8Array.of(CR) : new Uint8Array();
      pendingCr = false;
      return tail;
    },
  };
}

/** Net::FTP::A::write on one block; `outCr` is the state carried between blocks. */
function writeBlock(block: Uint8Array, state: { outCr: boolean }): Uint8Array {
  const out = new Uint8Array(block.length * 2);
  let n = 0;
  const convert = block.includes(CR) || block.includes(LF);
  let prev = -1; // the byte before b in this block, none at first
  for (const b of block) {
    if (convert && b === LF && prev !== CR) out[n++] = CR;
    out[n++] = b;
    prev = b;
  }
  let start = 0;
  if (state.outCr && n > 0 && out[0] === CR) start = 1;
  state.outCr = n > start && out[n - 1] === CR;
  return out.subarray(start, n);
}

/** Upload conversion as Net::FTP::A::write, on blocks of `blockSize` bytes of the local file. */
export function toCrlf(blockSize = NET_FTP_BLOCK_SIZE): LineConverter {
  const state = { outCr: false };
  let pending = new Uint8Array(0);
  return {
    push(chunk) {
      const all = new Uint8Array(pending.length + chunk.length);
      all.set(pending);
      all.set(chunk, pending.length);
      const parts: Uint8Array[] = [];
      let off = 0;
      for (; all.length - off >= blockSize; off += blockSize) {
        parts.push(writeBlock(all.subarray(off, off + blockSize), state));
      }
      pending = all.slice(off);
      return concatBytes(parts);
    },
    end() {
      const tail = pending.length ? writeBlock(pending, state) : new Uint8Array();
      pending = new Uint8Array(0);
      return tail;
    },
  };
}
