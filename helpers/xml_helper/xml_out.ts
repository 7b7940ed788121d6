/**
 * @module
 * XMLout's serialisation, after XML::Simple 2.25 `XMLout`, `value_to_xml`, `sorted_keys` and
 * `hash_to_array`: scalars in hashes become attributes (or elements with NoAttr), hashes and
 * arrays nested elements, hashes of hashes are unfolded on the first KeyAttr, keys are sorted
 * (KeyAttr first) unless NoSort, two-space indentation unless NoIndent.
 */

import type { Options } from "./options.ts";
import { XmlSimpleError } from "./options.ts";
import { codePointCompare, escapeValue, perlString } from "./text.ts";
import { truthy } from "../types.ts";

type Hash = Record<string, unknown>;

function isHash(v: unknown): v is Hash {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isRef(v: unknown): boolean {
  return typeof v === "object" && v !== null;
}

/** XMLout of `data` (a decoded JSON value) with normalised options; returns the XML text. */
export function xmlOut(data: unknown, opt: Options, warn: (m: string) => void): string {
  return new Writer(opt, warn).run(data);
}

class Writer {
  readonly #opt: Options;
  readonly #warn: (m: string) => void;
  #rootname: string;

  constructor(opt: Options, warn: (m: string) => void) {
    this.#opt = opt;
    this.#warn = warn;
    this.#rootname = opt.rootname;
  }

  run(data: unknown): string {
    let ref = data;
    if (Array.isArray(ref)) ref = { anon: ref };
    if (this.#opt.keeproot) {
      if (isHash(ref)) {
        const keys = Object.keys(ref);
        if (keys.length === 1) {
          this.#rootname = keys[0]!;
          ref = ref[keys[0]!];
        }
      }
    } else if (this.#rootname === "" && isHash(ref)) {
      // Without a root element, top-level scalars become (one-element) lists of elements.
      const copy: Hash = {};
      for (const [k, v] of Object.entries(ref)) copy[k] = isRef(v) ? v : [v];
      ref = copy;
    }
    let xml = this.#valueToXml(ref, this.#rootname, "");
    if (this.#opt.xmldecl) xml = `${this.#opt.xmldecl}\n${xml}`;
    return xml;
  }

  #escape(v: unknown): string {
    const s = perlString(v);
    return this.#opt.noescape ? s : escapeValue(s, this.#opt.numericescape);
  }

  #valueToXml(value: unknown, name: string, indentIn: string): string {
    const opt = this.#opt;
    const named = name !== "";
    const isRoot = indentIn === "";
    const indent = opt.noindent ? "" : indentIn;
    const nl = opt.noindent ? "" : "\n";

    if (!isRef(value)) {
      return named
        ? `${indent}<${name}>${this.#escape(value)}</${name}>${nl}`
        : `${perlString(value)}${nl}`;
    }

    let ref: unknown = value;
    if (isHash(ref) && Object.keys(ref).length && opt.keyattr && !isRoot) {
      ref = this.#hashToArray(name, ref);
    }

    const result: string[] = [];
    if (isHash(ref)) {
      let hash: Hash = ref;
      if (opt.grouptags) {
        hash = { ...hash };
        for (const [k, v] of Object.entries(hash)) {
          const group = opt.grouptags.get(k);
          if (truthy(group)) hash[k] = { [group!]: v };
        }
      }
      const nested: string[] = [];
      let text: string | undefined;
      if (named) result.push(indent, "<", name);
      const keys = this.#sortedKeys(name, hash);
      if (keys.length) {
        let firstArg = true;
        for (const key of keys) {
          let v = hash[key];
          if (key.startsWith("-")) continue;
          if (v === null || v === undefined) {
            const se = opt.suppressempty;
            if (se.set && truthy(se.value)) continue;
            if (!(se.set && se.value === null)) this.#warn("Use of uninitialized value");
            if (key === opt.contentkey) text = "";
            else v = se.set ? {} : "";
          }
          if (!isRef(v) && opt.valueattr?.has(key)) v = { [opt.valueattr.get(key)!]: v };
          if (isRef(v) || opt.noattr) {
            nested.push(this.#valueToXml(v, key, `${indent}  `));
          } else if (key === opt.contentkey) {
            text = this.#escape(v);
          } else {
            if (opt.attrindent && !firstArg) result.push(`\n${indent} ${" ".repeat(name.length)}`);
            result.push(" ", key, '="', this.#escape(v), '"');
            firstArg = false;
          }
        }
      } else {
        text = "";
      }
      if (nested.length || text !== undefined) {
        if (named) {
          result.push(">");
          if (text !== undefined) {
            result.push(text);
            if (nested.length) nested[0] = nested[0]!.replace(/^\s+/, "");
          } else {
            result.push(nl);
          }
          if (nested.length) result.push(...nested, indent);
          result.push("</", name, ">", nl);
        } else {
          result.push(...nested);
        }
      } else {
        result.push(" />", nl);
      }
    } else if (Array.isArray(ref)) {
      for (const v of ref) {
        if (
          (v === null || v === undefined) && opt.suppressempty.set &&
          truthy(opt.suppressempty.value)
        ) continue;
        if (!isRef(v)) {
          result.push(indent, "<", name, ">", this.#escape(v), "</", name, ">", nl);
        } else if (isHash(v)) {
          result.push(this.#valueToXml(v, name, indent));
        } else {
          result.push(indent, "<", name, ">", nl, this.#valueToXml(v, "anon", `${indent}  `));
          result.push(indent, "</", name, ">", nl);
        }
      }
    } else {
      throw new XmlSimpleError(`Can't encode a value of type: ${typeof ref}`);
    }
    return result.join("");
  }

  /** XML::Simple `sorted_keys`: the KeyAttr key first, then the rest in code point order. */
  #sortedKeys(name: string, hash: Hash): string[] {
    const keys = Object.keys(hash);
    if (this.#opt.nosort) return keys;
    const keyattr = this.#opt.keyattr;
    const first: string[] = [];
    if (keyattr instanceof Map) {
      const spec = keyattr.get(name);
      if (spec && spec[0] in hash) first.push(spec[0]);
    } else if (keyattr) {
      const hit = keyattr.find((k) => k in hash);
      if (hit !== undefined) first.push(hit);
    }
    const rest = keys.filter((k) => k !== first[0]).sort(codePointCompare);
    return [...first, ...rest];
  }

  /** XML::Simple `hash_to_array`: unfolds a hash of hashes, or returns it as is. */
  #hashToArray(parent: string, hash: Hash): unknown {
    const keyattr = this.#opt.keyattr!;
    const keys = Object.keys(hash);
    if (!this.#opt.nosort) keys.sort(codePointCompare);
    const array: Hash[] = [];
    for (const key of keys) {
      const value = hash[key];
      if (!isHash(value)) return hash;
      if (keyattr instanceof Map) {
        const spec = keyattr.get(parent);
        if (!spec) return hash;
        array.push({ [spec[0]]: key, ...value });
      } else {
        array.push({ [(keyattr as readonly string[])[0]!]: key, ...value });
      }
    }
    return array;
  }
}
