/**
 * @module
 * XML parsing and serialisation shared by `xml_dom_helper` (XML::DOM) and `xpath` (XML::XPath),
 * over `@xmldom/xmldom`. Parsing is strict like expat (any error or fatal error fails); the
 * serialiser reproduces XML::DOM 1.46 `toString` byte for byte; `stringValue` is XPath 1.0's.
 */

import { DOMParser } from "@xmldom/xmldom";
import type { Document, Node } from "@xmldom/xmldom";
import { documentFromPerl } from "./document_bytes.ts";
import { expandEntities, subsetText } from "./entities.ts";

export const ELEMENT_NODE = 1;
export const ATTRIBUTE_NODE = 2;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const PROCESSING_INSTRUCTION_NODE = 7;
export const COMMENT_NODE = 8;
export const DOCUMENT_NODE = 9;
export const DOCUMENT_TYPE_NODE = 10;

/** The `<?xml …?>` declaration as parsed (xmldom keeps it as a PI; XML::DOM keeps it apart). */
export interface XmlDecl {
  readonly version?: string;
  readonly encoding?: string;
  readonly standalone?: string;
}

/** A parsed document, its declaration, and what parses it again (`parseXml(text, { keepCdata })`). */
export interface ParsedXml {
  readonly doc: Document;
  readonly decl: XmlDecl | undefined;
  /** The text given to `parseXml`. */
  readonly text: string;
  readonly keepCdata: boolean;
}

/** XML::DOM::Parser options the helper honours (create_parser's KeepCDATA, ProtocolEncoding). */
export interface ParseOptions {
  /** Keep CDATA sections as CDATASection nodes (else they are text, merged with their neighbours). */
  readonly keepCdata?: boolean;
  /** Decode the bytes in this encoding, whatever the document declares. */
  readonly encoding?: string;
}

/** Parse result: the document, or an error message for the Perl caller. */
export type ParseOutcome = { ok: true; value: ParsedXml } | { ok: false; error: string };

function declOf(data: string): XmlDecl {
  const attr = (name: string) => new RegExp(`${name}\\s*=\\s*(["'])(.*?)\\1`).exec(data)?.[2];
  const decl: { version?: string; encoding?: string; standalone?: string } = {};
  const version = attr("version"), encoding = attr("encoding"), standalone = attr("standalone");
  if (version !== undefined) decl.version = version;
  if (encoding !== undefined) decl.encoding = encoding;
  if (standalone !== undefined) decl.standalone = standalone;
  return decl;
}

/**
 * Parses XML text strictly: undeclared entities, mismatched tags and junk after the root are
 * errors, as with expat. The XML declaration and whitespace between top-level nodes are taken out
 * of the tree, because expat (hence XML::DOM and XML::XPath) never reports them as nodes.
 */
export function parseXml(text: string, opts: ParseOptions = {}): ParseOutcome {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (source.trim() === "") {
    return { ok: false, error: "Cannot parse XML: no element found (the document is empty)" };
  }
  const expanded = expandEntities(source);
  if (!expanded.ok) return { ok: false, error: `Cannot parse XML: ${expanded.error}` };
  let doc: Document;
  // The parser's own message, as reported (xmldom re-wraps what onError throws).
  let first: string | undefined;
  try {
    const parser = new DOMParser({
      xmlns: undeclaredPrefixes(expanded.text),
      onError: (level, message) => {
        if (level === "warning") return;
        first ??= message;
        throw new SyntaxError(message);
      },
    });
    doc = parser.parseFromString(expanded.text, "text/xml");
  } catch (err) {
    const e = err as Error & { locator?: { lineNumber?: number; columnNumber?: number } };
    const cause = first ?? (e.cause instanceof Error ? e.cause.message : e.message);
    const where = e.locator?.lineNumber
      ? ` at line ${e.locator.lineNumber}, column ${e.locator.columnNumber}`
      : "";
    return { ok: false, error: `Cannot parse XML: ${cleanMessage(cause)}${where}` };
  }
  let decl: XmlDecl | undefined;
  for (const child of Array.from(doc.childNodes)) {
    if (child.nodeType === PROCESSING_INSTRUCTION_NODE && child.nodeName === "xml") {
      decl = declOf((child as unknown as { data: string }).data);
      doc.removeChild(child);
    } else if (child.nodeType === TEXT_NODE) {
      doc.removeChild(child);
    }
  }
  if (!doc.documentElement) return { ok: false, error: "Cannot parse XML: no root element" };
  const doctype = doc.doctype as unknown as { internalSubset?: string } | null;
  if (doctype && expanded.decls.length > 0) doctype.internalSubset = subsetText(expanded.decls);
  const keepCdata = opts.keepCdata === true;
  mergeText(doc, keepCdata);
  return { ok: true, value: { doc, decl, text, keepCdata } };
}

const NCNAME = "[\\p{L}_][\\p{L}\\p{N}_.\\-\\u00B7]*";
const PREFIX_USE = new RegExp(`<\\/?(${NCNAME}):|\\s(${NCNAME}):${NCNAME}\\s*=`, "gu");

/**
 * Expat runs without namespace processing for XML::DOM and XML::XPath, so `<c:d/>` with no
 * `xmlns:c` is an ordinary name there; xmldom refuses it. Prefixes the document never declares are
 * bound to a placeholder namespace, which keeps their names as written.
 */
function undeclaredPrefixes(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  if (!text.includes(":")) return map;
  for (const m of text.matchAll(PREFIX_USE)) {
    const p = m[1] ?? m[2]!;
    if (p === "xml" || p === "xmlns" || p in map || text.includes(`xmlns:${p}`)) continue;
    map[p] = `urn:cpan-bridge:undeclared-prefix:${p}`;
  }
  return map;
}

/**
 * Turns CDATA sections into text and merges adjacent text, as expat reports them to XML::DOM
 * (without KeepCDATA) and XML::XPath: one text node per run of character data.
 */
function mergeText(doc: Document, keepCdata: boolean): void {
  if (keepCdata) return void doc.normalize();
  const walk = (n: Node) => {
    for (let c: Node | null = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === CDATA_SECTION_NODE) {
        const t = doc.createTextNode((c as unknown as { data: string }).data) as unknown as Node;
        n.replaceChild(t, c);
        c = t;
      } else if (c.nodeType === ELEMENT_NODE) walk(c);
    }
  };
  walk(doc);
  doc.normalize();
}

function cleanMessage(message: string): string {
  return message.replace(/^\[xmldom [^\]]*\]\t?/, "").replace(/\s*\|\|@#\[line:.*$/s, "").trim();
}

/**
 * Parses a document given as a Perl string: its bytes decoded by the document's declared
 * encoding first (`documentFromPerl`), as XML::Parser hands a Perl string to expat.
 */
export function parsePerlXml(xml: string, opts: ParseOptions = {}): ParseOutcome {
  const text = documentFromPerl(xml, opts.encoding);
  if (!text.ok) return { ok: false, error: `Cannot parse XML: ${text.error}` };
  return parseXml(text.text, opts);
}

/** The XPath 1.0 string-value of a node (what XML::XPath `string_value` returns). */
export function stringValue(node: Node): string {
  switch (node.nodeType) {
    case ELEMENT_NODE:
    case DOCUMENT_NODE: {
      let out = "";
      const walk = (n: Node) => {
        for (let c = n.firstChild; c; c = c.nextSibling) {
          if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) {
            out += (c as unknown as { data: string }).data;
          } else if (c.nodeType === ELEMENT_NODE) walk(c);
        }
      };
      walk(node);
      return out;
    }
    case ATTRIBUTE_NODE:
      return (node as unknown as { value: string }).value;
    default:
      return (node as unknown as { data?: string }).data ?? "";
  }
}

/** Perl's stringification of a number (`%.15g`), as XML::XPath and XML::XQL print numbers. */
export function perlNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Inf" : "-Inf";
  if (Object.is(n, -0)) return "0";
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 15) {
    const [mant, e] = n.toExponential(14).split("e");
    const m = mant!.replace(/\.?0+$/, "");
    const ev = Number(e);
    return `${m}e${ev < 0 ? "-" : "+"}${String(Math.abs(ev)).padStart(2, "0")}`;
  }
  return n.toPrecision(15).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

const TEXT_ESCAPES: Record<string, string> = {
  "<": "&lt;",
  "&": "&amp;",
  ">": "&gt;",
  '"': "&quot;",
};

/** XML::DOM `encodeText($s, '<&>"')` (also used for attribute values, same set). */
function encodeText(s: string): string {
  return s.replace(/[<&>"]|\]\]>/g, (m) => TEXT_ESCAPES[m] ?? "]]&gt;");
}

/** Serialises one node the way XML::DOM 1.46 `print`/`toString` does. */
export function domToString(node: Node, decl?: XmlDecl): string {
  const out: string[] = [];
  write(node, out, decl);
  return out.join("");
}

/** `<tag attr="…"` of an element, attributes encoded as XML::DOM prints them. */
function startTag(node: Node): string {
  const el = node as unknown as {
    tagName: string;
    attributes: ArrayLike<{ name: string; value: string }>;
  };
  let s = `<${el.tagName}`;
  for (const a of Array.from(el.attributes)) s += ` ${a.name}="${encodeText(a.value)}"`;
  return s;
}

/** An element as XML::DOM prints it without its children: `<tag attr="…"/>`. */
function emptyElement(node: Node): string {
  return `${startTag(node)}/>`;
}

function write(node: Node, out: string[], decl?: XmlDecl): void {
  const n = node as unknown as Record<string, unknown> & Node;
  switch (node.nodeType) {
    case DOCUMENT_NODE: {
      if (decl) {
        out.push("<?xml");
        if (decl.version !== undefined) out.push(` version="${decl.version}"`);
        if (decl.encoding !== undefined) out.push(` encoding="${decl.encoding}"`);
        if (decl.standalone !== undefined) {
          out.push(` standalone="${decl.standalone === "yes" ? "yes" : "no"}"`);
        }
        out.push("?>\n");
      }
      for (let c = node.firstChild; c; c = c.nextSibling) {
        write(c, out);
        out.push("\n");
      }
      return;
    }
    case ELEMENT_NODE: {
      const el = node as unknown as { tagName: string };
      if (!node.firstChild) {
        out.push(emptyElement(node));
        return;
      }
      out.push(startTag(node), ">");
      for (let c: Node | null = node.firstChild; c; c = c.nextSibling) write(c, out);
      out.push(`</${el.tagName}>`);
      return;
    }
    case ATTRIBUTE_NODE:
      out.push(`${n.name}="${encodeText(String(n.value))}"`);
      return;
    case TEXT_NODE:
      out.push(encodeText(String(n.data)));
      return;
    // Only with KeepCDATA: otherwise the parser made the section text.
    case CDATA_SECTION_NODE:
      out.push(`<![CDATA[${String(n.data)}]]>`);
      return;
    case COMMENT_NODE:
      out.push(`<!--${String(n.data).replaceAll("--", "&#45;&#45;")}-->`);
      return;
    case PROCESSING_INSTRUCTION_NODE:
      out.push(`<?${n.target} ${String(n.data).replaceAll("?>", "?&gt;")}?>`);
      return;
    case DOCUMENT_TYPE_NODE: {
      const dt = n as unknown as {
        name: string;
        publicId?: string;
        systemId?: string;
        internalSubset?: string;
      };
      // xmldom keeps the literals' quotes; XML::DOM prints them double-quoted.
      const unquote = (v: string | undefined) => (v ?? "").replace(/^(["'])([\s\S]*)\1$/, "$2");
      let s = `<!DOCTYPE ${dt.name}`;
      if (dt.publicId) s += ` PUBLIC "${unquote(dt.publicId)}" "${unquote(dt.systemId)}"`;
      else if (dt.systemId) s += ` SYSTEM "${unquote(dt.systemId)}"`;
      if (dt.internalSubset) s += ` [${dt.internalSubset}]`;
      out.push(`${s}>`);
      return;
    }
    default:
      for (let c: Node | null = node.firstChild; c; c = c.nextSibling) write(c, out);
  }
}

/**
 * Pretty form for `to_string` with an `indent` (XML::DOM has none; the Python helper used
 * minidom's `toprettyxml` without blank lines, which this follows): a `<?xml version="1.0" ?>`
 * line, one node per line, whitespace-only text dropped, text-only elements on one line.
 */
export function prettyString(doc: Document, indent: string): string {
  const lines = ['<?xml version="1.0" ?>'];
  const visit = (node: Node, depth: number) => {
    const pad = indent.repeat(depth);
    if (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) {
      const t = stringValue(node).trim();
      if (t) lines.push(pad + encodeText(t));
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) {
      lines.push(pad + domToString(node));
      return;
    }
    const kids = Array.from(node.childNodes).filter((c) =>
      !((c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) &&
        stringValue(c).trim() === "")
    );
    // The start tag as XML::DOM prints the element without children (no clone: cloning an
    // element in its document counts as a change of the document, see resident.ts).
    const open = emptyElement(node);
    if (kids.length === 0) return void lines.push(pad + open);
    const start = open.slice(0, -2) + ">";
    const tag = (node as unknown as { tagName: string }).tagName;
    if (
      kids.length === 1 && kids[0]!.nodeType !== ELEMENT_NODE && kids[0]!.nodeType !== COMMENT_NODE
    ) {
      return void lines.push(`${pad}${start}${encodeText(stringValue(kids[0]!).trim())}</${tag}>`);
    }
    lines.push(pad + start);
    for (const k of kids) visit(k, depth + 1);
    lines.push(`${pad}</${tag}>`);
  };
  for (let c = doc.firstChild; c; c = c.nextSibling) visit(c, 0);
  return lines.join("\n");
}
