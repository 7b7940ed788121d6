/**
 * @module
 * How an XML document reaches the parser, for all three XML helpers (xml_helper, xpath,
 * xml_dom_helper): as bytes, decoded by the document's own encoding, as libxml (XML::Simple) and
 * expat (XML::XPath, XML::DOM) do. The Perl string rule (docs/helpers/README.md) says which bytes:
 *
 * - a document given as a Perl string: `perlBytes` (a byte string's characters ≤ U+00FF are its
 *   bytes; a string with a wider character is Perl's internal UTF-8, which is what XML::Parser and
 *   XML::LibXML hand to their C parsers too);
 * - a file: its raw bytes.
 *
 * The encoding is the BOM's, else the `<?xml … encoding="…"?>` declaration's, else UTF-8. One
 * case cannot be told apart on the wire: a `use utf8` string of Latin-1 characters (`"<a>é</a>"`,
 * upgraded in Perl, so the modules see its UTF-8 and parse it) and the byte string `"<a>\xe9</a>"`
 * (invalid UTF-8, which the modules reject). A Perl string that is not valid UTF-8 under a UTF-8
 * reading is therefore taken as the characters it holds (the `use utf8` reading), never for files.
 */

import { bytesToPerl, perlBytes } from "../types.ts";
import { splitLiterals } from "./entities.ts";

/** A decoded document, or why its bytes cannot be read in their declared encoding. */
export type DecodedDocument = { ok: true; text: string } | { ok: false; error: string };

const LATIN1 = new Set([
  "iso-8859-1",
  "iso8859-1",
  "iso_8859-1",
  "iso-latin-1",
  "latin1",
  "latin-1",
  "l1",
]);
const ASCII = new Set(["us-ascii", "ascii"]);
const UTF8 = new Set(["utf-8", "utf8"]);
const UTF16 = new Set(["utf-16", "utf16", "utf-16le", "utf-16be", "ucs-2"]);

/**
 * A document given as a Perl string (the `xml => …` / `parse($string)` / XMLin string case).
 * `encoding` overrides the document's own, as XML::Parser's ProtocolEncoding does.
 */
export function documentFromPerl(s: string, encoding?: string): DecodedDocument {
  return decodeDocument(perlBytes(s), s, encoding);
}

/** A document read raw from a file. */
export function documentFromFile(bytes: Uint8Array, encoding?: string): DecodedDocument {
  return decodeDocument(bytes, undefined, encoding);
}

/** The encoding label a document's bytes declare: BOM, then XML declaration, else "utf-8". */
export function declaredEncoding(bytes: Uint8Array): { label: string; bom: boolean } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { label: "utf-8", bom: true };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { label: "utf-16be", bom: true };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { label: "utf-16le", bom: true };
  if (bytes[0] === 0x3c && bytes[1] === 0x00 && bytes[2] === 0x3f && bytes[3] === 0x00) {
    return { label: "utf-16le", bom: false };
  }
  if (bytes[0] === 0x00 && bytes[1] === 0x3c && bytes[2] === 0x00 && bytes[3] === 0x3f) {
    return { label: "utf-16be", bom: false };
  }
  let head = "";
  for (let i = 0; i < bytes.length && i < 512; i++) head += String.fromCharCode(bytes[i]!);
  const m = /^\s*<\?xml\s[^>]*?encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._:-]*)\1/.exec(head);
  return { label: m ? m[2]!.toLowerCase() : "utf-8", bom: false };
}

/** XML 1.0 `Char`: what expat refuses outside it (xmldom would accept it). */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const CHAR_REF = /&#(?:x([0-9A-Fa-f]+)|([0-9]+));/g;

/** The decoded text, unless it holds a character (or a reference to one) XML 1.0 forbids. */
function checkedText(text: string): DecodedDocument {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const cp = bad[0].codePointAt(0)!;
    return {
      ok: false,
      error: `not well-formed (invalid token): character U+${
        cp.toString(16).toUpperCase().padStart(4, "0")
      } at offset ${bad.index} is not allowed in XML 1.0`,
    };
  }
  if (text.includes("&#")) {
    for (const piece of splitLiterals(text)) {
      if (piece.literal) continue;
      for (const m of piece.text.matchAll(CHAR_REF)) {
        const cp = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number.parseInt(m[2]!, 10);
        if (cp > 0x10ffff || NOT_XML_CHAR.test(String.fromCodePoint(cp))) {
          return { ok: false, error: `reference to invalid character number (${m[0]})` };
        }
      }
    }
  }
  if (text.includes("]]>")) {
    const at = cdataEndInContent(text);
    if (at >= 0) {
      return {
        ok: false,
        error: `not well-formed (invalid token): "]]>" in character data at offset ${at}`,
      };
    }
  }
  return { ok: true, text };
}

/** Offset of a `]]>` in character data (outside tags, comments, CDATA and PIs), else -1. */
function cdataEndInContent(text: string): number {
  let offset = 0;
  for (const piece of splitLiterals(text)) {
    if (!piece.literal) {
      const t = piece.text;
      let inTag = false;
      let quote = "";
      for (let i = 0; i < t.length; i++) {
        const ch = t[i]!;
        if (inTag) {
          if (quote) {
            if (ch === quote) quote = "";
          } else if (ch === '"' || ch === "'") quote = ch;
          else if (ch === ">") inTag = false;
        } else if (ch === "<") inTag = true;
        else if (ch === "]" && t.startsWith("]]>", i)) return offset + i;
      }
    }
    offset += piece.text.length;
  }
  return -1;
}

function decodeDocument(
  bytes: Uint8Array,
  perlString: string | undefined,
  encoding: string | undefined,
): DecodedDocument {
  const r = decodeBytes(bytes, perlString, encoding);
  return r.ok ? checkedText(r.text) : r;
}

function decodeBytes(
  bytes: Uint8Array,
  perlString: string | undefined,
  encoding: string | undefined,
): DecodedDocument {
  const { label, bom } = encoding
    ? { label: encoding.toLowerCase(), bom: false }
    : declaredEncoding(bytes);
  if (UTF8.has(label)) {
    try {
      return {
        ok: true,
        text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
      };
    } catch {
      // The `use utf8` Latin-1 string: its characters are the text (see the module comment).
      if (perlString !== undefined) return { ok: true, text: perlString };
      return {
        ok: false,
        error: `not well-formed (invalid token): the document is not valid UTF-8 (first bad ` +
          `byte at offset ${badUtf8Offset(bytes)}); declare its encoding, e.g. ` +
          `<?xml version="1.0" encoding="ISO-8859-1"?>`,
      };
    }
  }
  // Real ISO-8859-1: byte n is U+00nn (TextDecoder("latin1") would be windows-1252).
  if (LATIN1.has(label)) return { ok: true, text: bytesToPerl(bytes) };
  if (ASCII.has(label)) {
    const at = bytes.findIndex((b) => b > 0x7f);
    if (at < 0) return { ok: true, text: bytesToPerl(bytes) };
    return {
      ok: false,
      error: `not well-formed (invalid token): byte 0x${
        bytes[at]!.toString(16)
      } at offset ${at} is not ${label}`,
    };
  }
  if (UTF16.has(label) && !label.endsWith("le") && !label.endsWith("be") && !bom) {
    return { ok: false, error: "Document labelled UTF-16 but has UTF-8 content" };
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true, ignoreBOM: false });
  } catch {
    return { ok: false, error: `Unsupported encoding ${label} (in the XML declaration)` };
  }
  try {
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return {
      ok: false,
      error: `not well-formed (invalid token): the document is not valid ${label}`,
    };
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence. */
function badUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const need = c < 0x80
      ? 0
      : c >= 0xc2 && c <= 0xdf
      ? 1
      : c >= 0xe0 && c <= 0xef
      ? 2
      : c >= 0xf0 && c <= 0xf4
      ? 3
      : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return i;
}
