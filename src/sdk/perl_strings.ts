/**
 * @module
 * The one rule for Perl strings that reach a helper (docs/helpers/README.md). After the wire's
 * double-encoding repair (contract §2.6) a helper receives exactly the Perl string's ordinals:
 * a Perl byte string (no UTF-8 flag: text read from files or sockets without an `:encoding`
 * layer, literals in scripts without `use utf8`) arrives as characters ≤ U+00FF, one per byte.
 *
 * - Where the CPAN module hands a string to the outside world as bytes (files, sockets, FTP and
 *   lock paths, SMTP/HTTP bodies, log lines, database binds), use `perlBytes`: characters
 *   ≤ U+00FF are the bytes; a string holding a wider character is text and goes out as its UTF-8
 *   encoding, as Perl prints it (with its "Wide character" warning).
 * - Where the CPAN module decodes those bytes as UTF-8 text (mail headers, file names the module
 *   encodes as text), use `perlText`. (XML documents are decoded by their own declared encoding;
 *   DBD::Pg sends every string by its characters, so PostgreSQL binds need neither.)
 * - Bytes that are bytes in Perl come back through `bytesToPerl`: one character per byte.
 */

const NOT_BYTE = /[\u0100-\uffff]/;
const HIGH_BYTE = /[\u0080-\u00ff]/;
const utf8Encoder = new TextEncoder();
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** True when every character of `s` is ≤ U+00FF, i.e. Perl could hold it as a byte string. */
export function isByteString(s: string): boolean {
  return !NOT_BYTE.test(s);
}

/**
 * The bytes Perl hands to the outside world for `s`.
 *
 * @example perlBytes("Z\u00c3\u00bcrich") // 5a c3 bc 72 69 63 68 (the byte string "Z\xc3\xbcrich")
 * @example perlBytes("\u65e5") // e6 97 a5 (a wide character: its UTF-8)
 */
export function perlBytes(s: string): Uint8Array {
  if (!isByteString(s)) return utf8Encoder.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * `s` as text, the way a module that decodes its input as UTF-8 sees it: a byte string that is
 * valid UTF-8 with at least one multi-byte sequence is decoded; anything else (ASCII, a Latin-1
 * character string such as `"caf\xe9"` from a script with `use utf8`, a string with wider
 * characters) is kept as it is.
 *
 * @example perlText("\u00e6\u0097\u00a5") // "\u65e5"
 */
export function perlText(s: string): string {
  if (!HIGH_BYTE.test(s) || !isByteString(s)) return s;
  try {
    return fatalUtf8.decode(perlBytes(s));
  } catch {
    return s;
  }
}

/**
 * The file name Perl would use for `s` (its bytes, `perlBytes`), as the string Deno turns back
 * into exactly those bytes; undefined when the bytes are not UTF-8, which Deno cannot name.
 *
 * @example perlPath("/tmp/Z\u00c3\u00bcrich") // "/tmp/Z\u00fcrich" (the bytes 5a c3 bc …)
 */
export function perlPath(s: string): string | undefined {
  try {
    return fatalUtf8.decode(perlBytes(s));
  } catch {
    return undefined;
  }
}

/** Bytes as Perl holds them: a string of one character ≤ U+00FF per byte. */
export function bytesToPerl(bytes: Uint8Array): string {
  // Not TextDecoder("latin1"): the Encoding standard maps that label to windows-1252.
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return out;
}
