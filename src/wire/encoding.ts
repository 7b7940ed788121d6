/**
 * @module
 * Text encoding on the wire (contract §2.6). `CPANBridge.pm` v2.00 UTF-8-encodes its JSON twice
 * and decodes replies twice. In "repair" mode (§2.6 option B, the default) cpan-bridge undoes the
 * double encoding of every string it receives and replies in ASCII-only JSON, so any Unicode text
 * survives the round trip. "exact" mode (option A) decodes once and replies in raw UTF-8, as the
 * Python daemon did.
 */

import { WireError } from "../errors.ts";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

/** Finds the first invalid UTF-8 sequence, described as Python's codec error does. */
function describeBadUtf8(b: Uint8Array): string {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need = 0, min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, min] = [3, 0x10000];
    else return at(c, i, "invalid start byte");
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length) return at(c, i, "unexpected end of data");
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return at(c, i, "invalid continuation byte");
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return at(c, i, "invalid continuation byte");
    }
    i += need + 1;
  }
  return "invalid data";
}

function at(byte: number, pos: number, why: string): string {
  return `'utf-8' codec can't decode byte 0x${
    byte.toString(16).padStart(2, "0")
  } in position ${pos}: ${why}`;
}

/** Requests up to this size that are all ASCII are decoded without the decoder (2-3× faster). */
const ASCII_FAST_MAX = 4096;

function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if ((b[i] ?? 0) > 0x7f) return false;
  return true;
}

/**
 * Decodes request bytes as strict UTF-8.
 *
 * @throws {WireError} UnicodeDecodeError with Python's message text (contract §3.4)
 */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length <= ASCII_FAST_MAX && isAscii(bytes)) {
    // ASCII is its own UTF-8: no decoder call (most requests, every ping, are small and ASCII).
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw new WireError(describeBadUtf8(bytes), "UnicodeDecodeError", { kind: "bad_utf8" });
  }
}

/**
 * False when the request bytes cannot hold a non-ASCII string: no byte above 0x7f and no
 * backslash (a `\u` escape may spell any character). Such a request's parsed strings are all
 * ASCII, so `repairDoubleEncoding` would change nothing and its walk is skipped (every ping).
 */
export function mayHoldNonAscii(bytes: Uint8Array): boolean {
  return bytes.includes(0x5c) || !isAscii(bytes);
}

// deno-lint-ignore no-control-regex
const NON_LATIN1 = /[^\u0000-\u00ff]/;
const HIGH = /[\u0080-\u00ff]/;

/**
 * Undoes one level of UTF-8 encoding in a string: when every code point is ≤ U+00FF and, taken
 * as bytes, they form valid UTF-8 with at least one multi-byte sequence, returns the decoded
 * text. Anything else is returned unchanged.
 */
export function repairString(s: string): string {
  if (!HIGH.test(s) || NON_LATIN1.test(s)) return s;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return s;
  }
}

/**
 * Repairs the double encoding of every string (values and keys) in a parsed request, in place
 * where possible. Iterative, so a deeply nested request cannot overflow the stack.
 */
export function repairDoubleEncoding(value: unknown): unknown {
  if (typeof value === "string") return repairString(value);
  if (value === null || typeof value !== "object") return value;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (typeof v === "string") node[i] = repairString(v);
        else if (v !== null && typeof v === "object") stack.push(v);
      }
    } else if (node !== null && typeof node === "object") {
      const obj = node as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        const v = obj[k];
        const rk = repairString(k);
        if (rk !== k) {
          delete obj[k];
          obj[rk] = v;
        }
        if (typeof v === "string") obj[rk] = repairString(v);
        else if (v !== null && typeof v === "object") stack.push(v);
      }
    }
  }
  return value;
}

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\u0000-\u007e]/g;

/** Escapes every non-ASCII UTF-16 unit (and DEL) of JSON text as `\uXXXX`. */
export function asciiEscapeJson(json: string): string {
  NON_ASCII.lastIndex = 0;
  if (!NON_ASCII.test(json)) return json;
  NON_ASCII.lastIndex = 0;
  return json.replace(NON_ASCII, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Serialises a reply: compact JSON, ASCII-escaped in repair mode, as UTF-8 bytes. */
export function encodeReply(text: string, mode: "repair" | "exact"): Uint8Array {
  return utf8.encode(mode === "repair" ? asciiEscapeJson(text) : text);
}
