/**
 * @module
 * `Encode::decode($charset, $bytes)` with Perl 5.36's replacement rules (CHECK = 0), for the
 * charsets HTTP::Message::decoded_content hands to it. UTF-8 follows Encode, not the WHATWG
 * decoder: one U+FFFD per malformed sequence (a surrogate, overlong, nonchar or above-Unicode
 * sequence is one U+FFFD under strict `utf-8`; lax `utf8` keeps surrogates and nonchars).
 * Latin-1 labels are the bytes; `TextDecoder` is used only for labels it does not turn into
 * windows-1252. An unknown charset returns `undefined` (Encode's "Unknown encoding").
 * One deliberate difference: lax `utf8` decodes a sequence above U+10FFFF to a Perl character
 * (e.g. chr(0x110000)) that neither JavaScript nor the JSON wire can hold; it becomes U+FFFD.
 */

import { bytesToPerl } from "../types.ts";

/** Encode's lead-byte length (UTF8SKIP). */
function skip(b: number): number {
  if (b < 0xc0) return 1;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  if (b < 0xf8) return 4;
  if (b < 0xfc) return 5;
  if (b < 0xfe) return 6;
  return 7;
}

const isNonchar = (cp: number) => (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
const MIN_FOR_LENGTH = [0, 0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000, 0x80000000];
/** The smallest code point a sequence of `n` bytes may encode (`n` is 2..7, from `skip`). */
const minForLength = (n: number): number => MIN_FOR_LENGTH[n]!;

/** Decodes UTF-8 as Encode does; `strict` is `utf-8`, otherwise Perl's lax `utf8`. */
export function decodeUtf8(bytes: Uint8Array, strict: boolean): string {
  return utf8Scan(bytes, strict).text;
}

/** The decoded text and the number of malformed sequences replaced. */
function utf8Scan(bytes: Uint8Array, strict: boolean): { text: string; bad: number } {
  let out = "";
  let bad = 0;
  let run: number[] = [];
  const flush = () => {
    if (run.length) out += String.fromCodePoint(...run);
    run = [];
  };
  const push = (cp: number) => {
    run.push(cp);
    if (run.length >= 0x4000) flush();
  };
  // The `!` reads below are in range: i < bytes.length, i + j < bytes.length, and k < n = j.
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b < 0x80) {
      push(b);
      i++;
      continue;
    }
    const n = skip(b);
    if (n === 1) {
      bad++;
      push(0xfffd);
      i++;
      continue;
    }
    let j = 1;
    while (j < n && i + j < bytes.length && (bytes[i + j]! & 0xc0) === 0x80) j++;
    if (j < n) {
      bad++;
      push(0xfffd);
      i += j;
      continue;
    }
    let cp = n === 7 ? 0 : b & (0x7f >> n);
    for (let k = 1; k < n; k++) cp = cp * 64 + (bytes[i + k]! & 0x3f);
    i += n;
    const overlong = cp < minForLength(n);
    const surrogate = cp >= 0xd800 && cp <= 0xdfff;
    if (overlong || cp > 0x10ffff || (strict && (surrogate || isNonchar(cp)))) {
      bad++;
      push(0xfffd);
    } else if (surrogate) {
      flush();
      out += String.fromCharCode(cp);
    } else push(cp);
  }
  flush();
  return { text: out, bad };
}

/** True when Encode::decode_utf8(…, FB_CROAK) accepts `bytes` (lax `utf8`). */
export function isLaxUtf8(bytes: Uint8Array): boolean {
  return utf8Scan(bytes, false).bad === 0;
}

const LATIN1 = new Set([
  "iso-8859-1",
  "iso8859-1",
  "iso_8859-1",
  "iso_8859-1:1987",
  "latin1",
  "latin-1",
  "l1",
  "iso-ir-100",
  "ibm819",
  "cp819",
]);
const ASCII = new Set(["ascii", "us-ascii", "ansi_x3.4-1968", "iso-646-us", "us"]);
const UTF16_32 = new Map([
  ["utf-16le", "utf-16le"],
  ["utf-16be", "utf-16be"],
  ["ucs-2le", "utf-16le"],
  ["ucs-2be", "utf-16be"],
]);

function utf32(bytes: Uint8Array, little: boolean): string {
  let out = "";
  const units = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const cp = units.getUint32(i, little);
    out += cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : "\ufffd";
  }
  return out; // a partial unit at the end is dropped, as Encode::Unicode does with CHECK = 0
}

/** UTF-16 as Encode::Unicode reads it: a partial unit at the end is dropped (not U+FFFD). */
function utf16(bytes: Uint8Array, encoding: string): string {
  return new TextDecoder(encoding, { ignoreBOM: true }).decode(
    bytes.subarray(0, bytes.length & ~1),
  );
}

/** `Encode::decode(lc $charset, $bytes)`, or undefined for an encoding Encode does not know. */
export function encodeDecode(charset: string, bytes: Uint8Array): string | undefined {
  const cs = charset.trim().toLowerCase();
  if (LATIN1.has(cs)) return bytesToPerl(bytes);
  if (ASCII.has(cs)) return bytesToPerl(bytes).replace(/[\u0080-\u00ff]/g, "\ufffd");
  if (cs === "utf-8" || cs === "utf-8-strict" || cs === "utf_8") return decodeUtf8(bytes, true);
  if (cs === "utf8") return decodeUtf8(bytes, false);
  const wide = UTF16_32.get(cs);
  if (wide) return utf16(bytes, wide);
  if (cs === "utf-32le" || cs === "utf-32be") return utf32(bytes, cs.endsWith("le"));
  if (cs === "utf-16" || cs === "utf-32") {
    // Encode::Unicode reads the BOM; without one (and CHECK = 0) it reads big-endian.
    const le16 = bytes[0] === 0xff && bytes[1] === 0xfe,
      be16 = bytes[0] === 0xfe && bytes[1] === 0xff;
    if (cs === "utf-16" && (le16 || be16)) {
      return utf16(bytes.subarray(2), le16 ? "utf-16le" : "utf-16be");
    }
    const le32 = bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0;
    const be32 = bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff;
    if (cs === "utf-32" && (le32 || be32)) return utf32(bytes.subarray(4), le32);
    return cs === "utf-16" ? utf16(bytes, "utf-16be") : utf32(bytes, false);
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(cs);
  } catch {
    return undefined;
  }
  const cp1252 = cs === "cp1252" || cs === "windows-1252";
  if (decoder.encoding === "windows-1252" && !cp1252) return undefined;
  return decoder.decode(bytes);
}
