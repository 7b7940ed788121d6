/**
 * @module
 * XMLin's conversion, after XML::Simple 2.25 `collapse` and `array_to_hash`, walking an xmldom
 * tree the way the module walks its SAX-built tree: attributes first, then child elements and
 * text in document order. Adjacent character data (text, CDATA, and text around comments or
 * processing instructions, which SAX does not report) is one text item; whitespace-only text is
 * dropped; other text is kept exactly (no trimming unless NormaliseSpace => 2).
 *
 * The old Python helper differed (`@`-prefixed attributes, trimmed text, no KeyAttr/ForceArray,
 * an extra level stripped by KeepRoot); XMLHelper.pm only passes the result through, so this
 * follows the real module.
 */

import { DOMParser } from "@xmldom/xmldom";
import type { Attr, Element, Node } from "@xmldom/xmldom";
import type { KeyAttrMap, Options } from "./options.ts";
import { expandEntities } from "../xml_dom_helper/entities.ts";
import { XmlSimpleError } from "./options.ts";
import { isBlank, normaliseSpace } from "./text.ts";
import { truthy } from "../types.ts";

/** A Perl value as XMLin builds it: a string, undef, an array ref or a hash ref. */
export type PerlValue = string | null | PerlValue[] | PerlHash;
/** A hash ref; null-prototype so element names like `__proto__` are ordinary keys. */
export type PerlHash = { [key: string]: PerlValue };

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

function newHash(): PerlHash {
  return Object.create(null) as PerlHash;
}

function isHash(v: PerlValue | undefined): v is PerlHash {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One child item of an element, as in XML::Parser's tree: an element or a run of text. */
type Item = { readonly el: Element; readonly text?: undefined } | {
  readonly el?: undefined;
  readonly text: string;
};

/** Parses `text` strictly (any xmldom error is fatal, as libxml's are) and returns the root. */
export function parseDocument(text: string): Element {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (isBlank(source)) {
    throw new XmlSimpleError("Cannot parse XML: the document is empty", "ParseError");
  }
  let first: string | undefined;
  try {
    const parser = new DOMParser({
      onError: (level, message) => {
        if (level === "warning") return;
        first ??= message;
        throw new SyntaxError(message);
      },
    });
    const expanded = expandEntities(source);
    if (!expanded.ok) throw new SyntaxError(expanded.error);
    const doc = parser.parseFromString(expanded.text, "text/xml");
    if (!doc.documentElement) throw new SyntaxError("no root element");
    return doc.documentElement;
  } catch (err) {
    const e = err as Error & { locator?: { lineNumber?: number; columnNumber?: number } };
    const message = (first ?? e.message).replace(/^\[xmldom [^\]]*\]\t?/, "")
      .replace(/\s*\|\|@#\[line:.*$/s, "").trim();
    const where = e.locator?.lineNumber
      ? ` at line ${e.locator.lineNumber}, column ${e.locator.columnNumber}`
      : "";
    throw new XmlSimpleError(`Cannot parse XML: ${message}${where}`, "ParseError");
  }
}

/** XMLin's conversion of a parsed document. `warn` receives what XML::Simple would carp. */
export function simplify(root: Element, opt: Options, warn: (m: string) => void): PerlValue {
  return new Collapser(opt, warn).run(root);
}

class Collapser {
  readonly #opt: Options;
  readonly #warn: (m: string) => void;
  readonly #vars: Map<string, string> | null;

  constructor(opt: Options, warn: (m: string) => void) {
    this.#opt = opt;
    this.#warn = warn;
    this.#vars = opt.variables ? new Map(opt.variables) : null;
  }

  run(root: Element): PerlValue {
    if (this.#opt.keeproot) {
      return this.#collapse(newHash(), [{ el: root }]);
    }
    return this.#collapse(this.#attributes(root), this.#items(root));
  }

  #name(node: Element | Attr): string {
    if (!this.#opt.nsexpand) return node.nodeName;
    const uri = node.namespaceURI;
    const local = node.localName ?? "";
    // XML::LibXML::SAX reports a default namespace declaration as "{xmlns-ns}" (no local
    // name), which XML::Simple renames to "xmlns"; xmldom's DOM calls it "xmlns" already.
    if (uri === XMLNS_NS && node.nodeName === "xmlns") return "xmlns";
    return uri ? `{${uri}}${local}` : local;
  }

  #attributes(el: Element): PerlHash {
    const attr = newHash();
    const attrs = el.attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i)!;
      attr[this.#name(a)] = a.value;
    }
    return attr;
  }

  #items(el: Element): Item[] {
    const items: Item[] = [];
    let text: string | null = null;
    for (let c: Node | null = el.firstChild; c; c = c.nextSibling) {
      const type = c.nodeType;
      if (type === TEXT_NODE || type === CDATA_SECTION_NODE) {
        text = (text ?? "") + (c as unknown as { data: string }).data;
      } else if (type === ELEMENT_NODE) {
        if (text !== null) items.push({ text });
        text = null;
        items.push({ el: c as Element });
      }
      // Comments and processing instructions are not reported: text either side stays one run.
    }
    if (text !== null) items.push({ text });
    return items;
  }

  #substitute(value: string, pattern: RegExp): string {
    return value.replace(pattern, (whole, name: string) => this.#vars!.get(name) ?? whole);
  }

  #forced(key: string): boolean {
    const fa = this.#opt.forcearray;
    return fa === 1 || (fa !== 0 && fa.has(key));
  }

  /** XML::Simple `collapse`: one element's attributes and content items to a Perl value. */
  #collapse(attrIn: PerlHash, items: readonly Item[]): PerlValue {
    const opt = this.#opt;
    let attr = attrIn;
    if (opt.noattr) attr = newHash();
    else if (opt.normalisespace === 2) {
      for (const k in attr) attr[k] = normaliseSpace(attr[k] as string);
    }
    if (this.#vars) {
      for (const k in attr) attr[k] = this.#substitute(attr[k] as string, VAR_IN_ATTR);
    }

    // Roll up 'value' attributes (but only if no nested elements).
    if (items.length === 0 && opt.valueattrlist) {
      const keys = Object.keys(attr);
      if (keys.length === 1 && opt.valueattrlist.has(keys[0]!)) return attr[keys[0]!]!;
    }

    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      let key: string;
      let val: PerlValue;
      if (item.el) {
        key = this.#name(item.el);
        val = this.#collapse(this.#attributes(item.el), this.#items(item.el));
        if (val === null && truthy(opt.suppressempty.set ? opt.suppressempty.value : null)) {
          continue;
        }
      } else {
        val = item.text;
        if (isBlank(val)) continue;
        if (opt.normalisespace === 2) val = normaliseSpace(val);
        if (this.#vars) val = this.#substitute(val, VAR_IN_TEXT);
        if (opt.varattr !== null && opt.varattr in attr) {
          this.#vars!.set(attr[opt.varattr] as string, val);
        }
        if (i === items.length - 1 && isEmpty(attr)) {
          if (!opt.forcecontent) return val;
          const h = newHash();
          h[opt.contentkey] = val;
          return h;
        }
        key = opt.contentkey;
      }

      // Combine duplicates into an array ref if required.
      const existing = attr[key];
      if (key in attr) {
        if (Array.isArray(existing)) existing.push(val);
        else attr[key] = [existing!, val];
      } else if (Array.isArray(val)) {
        attr[key] = [val];
      } else if (key !== opt.contentkey && this.#forced(key)) {
        attr[key] = [val];
      } else {
        attr[key] = val;
      }
    }

    // Turn array refs into hash refs if key fields are present.
    if (opt.keyattr) {
      for (const k in attr) {
        const v = attr[k]!;
        if (Array.isArray(v)) attr[k] = this.#arrayToHash(k, v);
      }
    }

    // Disintermediate grouped tags.
    if (opt.grouptags) {
      for (const k in attr) {
        const v = attr[k];
        if (!isHash(v) || !opt.grouptags.has(k)) continue;
        const keys = Object.keys(v);
        if (keys.length === 1 && opt.grouptags.get(k) === keys[0]) attr[k] = v[keys[0]!]!;
      }
    }

    // Fold hashes containing a single anonymous array up into just the array.
    const keys = Object.keys(attr);
    if (keys.length === 1 && keys[0] === "anon" && Array.isArray(attr.anon)) return attr.anon;

    if (keys.length === 0 && opt.suppressempty.set) {
      return opt.suppressempty.value === "" ? "" : null;
    }

    // Roll up named elements with named nested 'value' attributes.
    if (opt.valueattr) {
      for (const k in attr) {
        const want = opt.valueattr.get(k);
        const v = attr[k];
        if (want === undefined || !isHash(v)) continue;
        const inner = Object.keys(v);
        if (inner.length === 1 && inner[0] === want) attr[k] = v[want]!;
      }
    }
    return attr;
  }

  /** XML::Simple `array_to_hash`: folds an array of hashes on KeyAttr, or returns it as is. */
  #arrayToHash(name: string, array: PerlValue[]): PerlValue {
    const opt = this.#opt;
    let hash = newHash();
    if (opt.keyattr instanceof Map) {
      const spec = (opt.keyattr as KeyAttrMap).get(name);
      if (!spec) return array;
      const [key, flag] = spec;
      for (const el of array) {
        if (!isHash(el) || !(key in el)) {
          this.#dieOrWarn(`<${name}> element has no '${key}' key attribute`);
          return array;
        }
        let val = el[key] ?? "";
        if (typeof val !== "string") {
          this.#dieOrWarn(`<${name}> element has non-scalar '${key}' key attribute`);
          return array;
        }
        if (opt.normalisespace === 1) val = normaliseSpace(val);
        if (val in hash) {
          this.#dieOrWarn(
            `<${name}> element has non-unique value in '${key}' key attribute: ${val}`,
          );
        }
        const copy = Object.assign(newHash(), el);
        if (flag === "-") copy[`-${key}`] = copy[key]!;
        if (flag !== "+") delete copy[key];
        hash[val] = copy;
      }
    } else {
      const keyattr = opt.keyattr as readonly string[];
      element: for (const el of array) {
        if (!isHash(el)) return array;
        for (const key of keyattr) {
          const v = el[key];
          if (v === undefined || v === null) continue;
          if (typeof v !== "string") {
            if (!opt.defaultKeys) {
              this.#dieOrWarn(`<${name}> element has non-scalar '${key}' key attribute`);
            }
            return array;
          }
          const val = opt.normalisespace === 1 ? normaliseSpace(v) : v;
          if (val in hash) {
            this.#dieOrWarn(
              `<${name}> element has non-unique value in '${key}' key attribute: ${val}`,
            );
          }
          const copy = Object.assign(newHash(), el);
          delete copy[key];
          hash[val] = copy;
          continue element;
        }
        return array; // No key field matched.
      }
    }
    if (opt.collapseagain) hash = collapseContent(hash, opt.contentkey);
    return hash;
  }

  #dieOrWarn(message: string): void {
    if (this.#opt.strictmode) throw new XmlSimpleError(message);
    this.#warn(message);
  }
}

const VAR_IN_ATTR = /\$\{([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}.]+)\}/gu;
const VAR_IN_TEXT = /\$\{([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+)\}/gu;

function isEmpty(h: PerlHash): boolean {
  for (const _ in h) return false;
  return true;
}

/** XML::Simple `collapse_content`: `{k => {content => v}}` becomes `{k => v}` when all fit. */
function collapseContent(hash: PerlHash, contentkey: string): PerlHash {
  for (const k in hash) {
    const v = hash[k];
    if (!isHash(v)) return hash;
    const keys = Object.keys(v);
    if (keys.length !== 1 || keys[0] !== contentkey) return hash;
  }
  for (const k in hash) hash[k] = (hash[k] as PerlHash)[contentkey]!;
  return hash;
}
