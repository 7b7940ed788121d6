/**
 * @module
 * Net::FTP's ASCII-mode line-end conversion (Net::FTP::A): downloads turn CRLF into LF, uploads
 * turn a bare LF into CRLF. Both work chunk by chunk, carrying a CR that ends a chunk.
 */

const CR = 13, LF = 10;

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

/** A bare LF → CRLF (an existing CRLF is kept), as Net::FTP::A::write. */
export function toCrlf(): LineConverter {
  let lastCr = false;
  return {
    push(chunk) {
      const out = new Uint8Array(chunk.length * 2);
      let n = 0;
      for (const b of chunk) {
        if (b === LF && !lastCr) out[n++] = CR;
        out[n++] = b;
        lastCr = b === CR;
      }
      return out.subarray(0, n);
    },
    end: () => new Uint8Array(),
  };
}
