/**
 * @module
 * HTTP::Message 6.44 `decoded_content`, the one body HTTPHelper returns for both `content` and
 * `decoded_content`: undo `Content-Encoding` (gzip, x-gzip, deflate as zlib or raw, base64,
 * quoted-printable), then decode text types (`text/*`, `text/xml`, `application/xml`,
 * `*+xml`) by their charset: the Content-Type parameter, else `content_charset`'s guess (BOM;
 * XML declaration; HTML `<meta>`; ASCII → US-ASCII, valid UTF-8 → UTF-8, else ISO-8859-1).
 * Every other type (octet-stream, JSON, images, zip, PDF) comes back as its bytes. Where
 * decoded_content fails (an unknown charset or coding, a corrupt gzip) it returns undef in
 * Perl; this returns the raw bytes, which is what the wrapper's `content` gives.
 */

// deno-lint-ignore-file no-control-regex -- the NUL and BOM patterns are HTTP::Message's own.
import zlib from "node:zlib";
import { bytesToPerl } from "../types.ts";
import { encodeDecode, isLaxUtf8 } from "./perl_encode.ts";

/** HTTP::Headers->header($name) in scalar context: all values joined by ", ". */
function header(headers: readonly [string, string][], name: string): string | undefined {
  const vs = headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
  return vs.length ? vs.join(", ") : undefined;
}

/** HTTP::Headers::content_type: the media type, lower-cased, without parameters. */
function mediaType(ct: string | undefined): string {
  return (ct ?? "").replace(/[,;][\s\S]*$/, "").trim().toLowerCase(); // up to the first , or ;
}

/** HTTP::Message::content_type_charset: the `charset` parameter, unquoted. */
function typeCharset(ct: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;,]*))/i.exec(ct ?? "");
  const cs = (m?.[1] ?? m?.[2] ?? "").trim();
  return cs || undefined;
}

const isXml = (t: string) => t === "text/xml" || t === "application/xml" || t.endsWith("+xml");
const isHtml = (t: string) =>
  t === "text/html" || t === "application/xhtml+xml" || t === "application/vnd.wap.xhtml+xml";

/** HTTP::Message::content_charset's guess for a body without a charset parameter. */
function guessCharset(type: string, b: Uint8Array): string | undefined {
  const s = bytesToPerl(b.subarray(0, 4096));
  if (s.startsWith("\xef\xbb\xbf")) return "UTF-8";
  if (s.startsWith("\xff\xfe\x00\x00")) return "UTF-32LE";
  if (s.startsWith("\x00\x00\xfe\xff")) return "UTF-32BE";
  if (s.startsWith("\xff\xfe")) return "UTF-16LE";
  if (s.startsWith("\xfe\xff")) return "UTF-16BE";
  if (isXml(type)) {
    if (/^\x00\x00\x00</.test(s)) return "UTF-32BE";
    if (/^<\x00\x00\x00/.test(s)) return "UTF-32LE";
    if (/^(?:\x00\s)*\x00</.test(s)) return "UTF-16BE";
    if (/^(?:\s\x00)*<\x00/.test(s)) return "UTF-16LE";
    const decl = /^\s*(<\?xml[^\x00]*?\?>)/.exec(s)?.[1];
    const enc = decl && /\sencoding\s*=\s*(["'])(.*?)\1/.exec(decl)?.[2]?.trim();
    return enc || "UTF-8";
  }
  if (isHtml(type)) {
    // IO::HTML::find_charset_in (need_pragma => 0), reduced to <meta … charset=…>.
    const head = s.slice(0, 1024);
    const [, meta] = /<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)/i.exec(head) ?? [];
    if (meta !== undefined && encodeDecode(meta, new Uint8Array(0)) !== undefined) return meta;
  } else if (type === "application/json") {
    if (/^\x00\x00\x00./s.test(s)) return "UTF-32BE";
    if (/^.\x00\x00\x00/s.test(s)) return "UTF-32LE";
    if (/^\x00.\x00./s.test(s)) return "UTF-16BE";
    if (/^.\x00.\x00/s.test(s)) return "UTF-16LE";
    return "UTF-8";
  }
  if (type.startsWith("text/") && b.length) {
    if (!b.some((x) => x >= 0x80)) return "US-ASCII";
    return isLaxUtf8(b) ? "UTF-8" : "ISO-8859-1";
  }
  return undefined;
}

/** MIME::QuotedPrint::decode. */
function unquote(b: Uint8Array): Uint8Array {
  const s = bytesToPerl(b).replace(/[ \t]+(?=\r?\n|$)/g, "").replace(/=[ \t]*\r?\n/g, "")
    .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Undoes one Content-Encoding; undefined where decoded_content dies. */
function undoCoding(ce: string, b: Uint8Array): Uint8Array | undefined {
  try {
    if (ce === "gzip" || ce === "x-gzip") {
      // Compress::Raw::Zlib with WANT_GZIP_OR_ZLIB: gzip or zlib framing.
      return b[0] === 0x1f && b[1] === 0x8b ? zlib.gunzipSync(b) : zlib.inflateSync(b);
    }
    if (ce === "deflate") {
      try {
        return zlib.inflateSync(b);
      } catch {
        return zlib.inflateRawSync(b);
      }
    }
    if (ce === "base64") {
      const clean = bytesToPerl(b).replace(/[^A-Za-z0-9+/]/g, "");
      return Uint8Array.from(
        atob(
          clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0))
            .padEnd(Math.ceil(clean.length / 4) * 4, "="),
        ),
        (c) => c.charCodeAt(0),
      );
    }
    if (ce === "quoted-printable") return unquote(b);
  } catch {
    return undefined;
  }
  // br (no IO::Uncompress::Brotli in Debian's libwww-perl), bzip2, compress, anything else.
  return undefined;
}

/**
 * The body as `$response->decoded_content` gives it to Perl (characters for text, else one
 * character per byte); the raw bytes where decoded_content would fail.
 */
export function decodedContent(body: Uint8Array, headers: readonly [string, string][]): string {
  let b: Uint8Array = body;
  const ce = header(headers, "content-encoding")?.trim();
  if (ce) {
    for (const coding of ce.toLowerCase().split(/\s*,\s*/).reverse()) {
      if (!coding || coding === "identity" || coding === "none") continue;
      const next = undoCoding(coding, b);
      if (!next) return bytesToPerl(body);
      b = next;
    }
  }
  const ct = header(headers, "content-type");
  const type = mediaType(ct);
  const xml = isXml(type);
  if (!type.startsWith("text/") && !xml) return bytesToPerl(b);
  const charset = (typeCharset(ct) ?? guessCharset(type, b) ?? "ISO-8859-1").toLowerCase();
  if (charset === "none" || charset === "us-ascii" || charset === "iso-8859-1") {
    return bytesToPerl(b);
  }
  let text = encodeDecode(charset, b);
  if (text === undefined) return bytesToPerl(body);
  // decoded_content's `content_is_text || (my $is_xml = content_is_xml)` short-circuits: the
  // declaration is removed for application/xml and *+xml, never for text/xml.
  if (xml && !type.startsWith("text/")) {
    text = text.replace(/^\ufeff/, "");
    const decl = /^(\s*<\?xml[^\x00]*?\?>)/.exec(text)?.[1];
    if (decl) {
      text = decl.replace(/\sencoding\s*=\s*(["']).*?\1/, "") + text.slice(decl.length);
    }
  }
  return text;
}
