/**
 * @module
 * Perl's view of text, as XML::Simple 2.25 applies it: Perl's Unicode `\s` (which, unlike
 * JavaScript's, includes U+0085 and excludes U+FEFF), `normalise_space`, Perl truthiness, code
 * point string order (`sort`), and `escape_value` / `numeric_escape`.
 */

import { truthy } from "../types.ts";

/** The characters Perl's `\s` matches in a Unicode string (perl 5.18+). */
const WS = "\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
const ALL_WS = new RegExp(`^[${WS}]*$`);
const LEADING_WS = new RegExp(`^[${WS}]+`);
const TRAILING_WS = new RegExp(`[${WS}]+$`);
const INNER_WS = new RegExp(`[${WS}][${WS}]+`, "g");

/** `$text =~ m{^\s*$}s`: text XML::Simple skips as insignificant. */
export function isBlank(text: string): boolean {
  return ALL_WS.test(text);
}

/**
 * XML::Simple `normalise_space`: trims, then turns runs of two or more whitespace characters into
 * one space (a single newline or tab inside the text is kept as it is, as in the module).
 */
export function normaliseSpace(text: string): string {
  return text.replace(LEADING_WS, "").replace(TRAILING_WS, "").replace(INNER_WS, " ");
}

/** How Perl stringifies a JSON scalar (JSON::PP booleans print as 1 and 0). */
export function perlString(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v === true) return "1";
  if (v === false) return "0";
  return String(v);
}

/** Perl `cmp` on character strings: code point order (JavaScript's `<` compares UTF-16 units). */
export function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral character) sorts above every BMP character.
    const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** XML::Simple `escape_value`: `& < > "` (not `'`), then the optional NumericEscape. */
export function escapeValue(data: string, numericEscape: unknown = undefined): string {
  const escaped = data.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
  if (!truthy(numericEscape)) return escaped;
  const limit = perlString(numericEscape) === "2" ? 0x7f : 0xff;
  let out = "";
  for (const ch of escaped) {
    const cp = ch.codePointAt(0)!;
    out += cp > limit ? `&#${cp};` : ch;
  }
  return out;
}

const NAMED: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/**
 * Undoes XML escaping: the five predefined entities and numeric character references, in one
 * pass (so `&amp;lt;` becomes `&lt;`, as an XML parser reads it). Anything else is left as it is.
 */
export function unescapeValue(data: string): string {
  return data.replace(/&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#[xX]([0-9a-fA-F]+));/g, (
    whole,
    name: string | undefined,
    dec: string | undefined,
    hex: string | undefined,
  ) => {
    if (name) return NAMED[name]!;
    const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex!, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) return whole;
    return String.fromCodePoint(cp);
  });
}
