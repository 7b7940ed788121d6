/**
 * @module
 * What the operations rings keep (issue #17 item 3): `Ring`, a fixed-size buffer of the newest
 * entries, and `keptText()`, the bound on a text kept in one. A ring entry holds fixed fields
 * only, and its texts are short copies that share no memory with the request or the error they
 * came from, so a ring's memory is its capacity times a small constant, whatever clients send.
 */

import { boundText } from "../errors.ts";

/** Longest text kept in a ring entry, in UTF-8 bytes (longer texts end in a cut marker). */
export const KEPT_TEXT_BYTES = 512;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * `s` cut to `maxBytes` UTF-8 bytes (with boundText's `… [N characters, cut to M bytes]` marker),
 * as a fresh copy: a substring or a concatenation in V8 can keep its whole source string alive
 * (a 60 KiB request key behind a 64-character path), and a copy made from bytes cannot.
 *
 * @example
 * ```ts
 * keptText("x".repeat(100_000)).length < 600; // true
 * ```
 */
export function keptText(s: string, maxBytes: number = KEPT_TEXT_BYTES): string {
  const cut = boundText(s, maxBytes);
  return cut === s ? dec.decode(enc.encode(s)) : cut;
}

/** The newest `capacity` entries pushed, oldest first. */
export class Ring<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  #next = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Cannot make a ring of ${capacity} entries`);
    }
    this.capacity = capacity;
  }

  /** Entries held (at most `capacity`). */
  get size(): number {
    return this.#items.length;
  }

  /** Adds an entry, dropping the oldest when full. */
  push(item: T): void {
    if (this.#items.length < this.capacity) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** The newest `n` entries (all when `n` is larger), oldest first. */
  last(n: number = this.capacity): T[] {
    const len = this.#items.length;
    const k = Math.max(0, Math.min(n, len));
    const out: T[] = [];
    // Once full, the oldest entry is at #next; before that the items are in push order.
    const start = len < this.capacity ? len - k : this.#next + this.capacity - k;
    for (let i = 0; i < k; i++) {
      const item = this.#items[(start + i) % this.capacity];
      if (item !== undefined) out.push(item);
    }
    return out;
  }
}
