/**
 * @module
 * PostgreSQL values as DBD::Pg 3.16 hands them to Perl (pg_enable_utf8 default, client_encoding
 * UTF8), from the server's text output: text decoded; booleans 1/0; float4/float8 as Perl NVs
 * ("0.3", "0" for -0, "Inf"); integers and numeric as sent; bytea as its raw bytes, one character
 * per byte; arrays of the built-in types as (nested) array refs, NULL elements undef, with
 * DBD::Pg's element rules (int2/int4/oid and float/numeric elements are numbers, int8 and the rest
 * text, bool 1/0).
 */

import { bytesToPerl } from "../types.ts";
import type { WireValue } from "./driver.ts";
import { perlNvOfText } from "./perl_number.ts";

type Element = "bool" | "nv" | "text";

/** Element kinds of the array types DBD::Pg expands, by array OID. */
const ARRAY_ELEMENTS: Record<number, Element> = {
  1000: "bool",
  1001: "text", // bytea[]: DBD::Pg keeps the elements' escaped text
  1002: "text",
  1003: "text",
  1005: "text", // int2[]
  1007: "text", // int4[]
  1009: "text",
  1014: "text",
  1015: "text",
  1016: "text", // int8[]
  1021: "nv",
  1022: "nv",
  1028: "text", // oid[]
  1115: "text",
  1182: "text",
  1183: "text",
  1185: "text",
  1187: "text",
  1231: "nv", // numeric[]: DBD::Pg turns the elements into NVs ("1.50" is 1.5)
  1270: "text",
  199: "text",
  2951: "text",
  3807: "text",
};

/** PostgreSQL allows at most 6 array dimensions; deeper input is not an array we parse. */
const MAX_DIMS = 6;

/** Decodes bytea text output (hex `\x…`, or the escape format) to bytes. */
export function byteaBytes(text: string): Uint8Array {
  if (text.startsWith("\\x")) {
    const hex = text.slice(2);
    const out = new Uint8Array(hex.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") out.push(text.charCodeAt(i) & 0xff);
    else if (text[i + 1] === "\\") out.push(0x5c), i++;
    else out.push(parseInt(text.substr(i + 1, 3), 8)), i += 3;
  }
  return Uint8Array.from(out);
}

function element(raw: string | null, kind: Element): WireValue {
  if (raw === null) return null;
  if (kind === "bool") return raw === "t" ? "1" : raw === "f" ? "0" : raw;
  if (kind === "nv") return perlNvOfText(raw);
  return raw;
}

/** Parses PostgreSQL array text output (`{1,2}`, `{{"a b",NULL}}`, `[0:1]={5,6}`); undefined if malformed. */
export function parsePgArray(text: string, kind: Element): WireValue[] | undefined {
  let i = 0;
  if (text[0] === "[") {
    const eq = text.indexOf("=");
    if (eq < 0) return undefined;
    i = eq + 1;
  }
  const parseLevel = (depth: number): WireValue[] | undefined => {
    if (depth > MAX_DIMS || text[i] !== "{") return undefined;
    i++;
    const items: WireValue[] = [];
    if (text[i] === "}") {
      i++;
      return items;
    }
    while (i < text.length) {
      if (text[i] === "{") {
        const sub = parseLevel(depth + 1);
        if (!sub) return undefined;
        items.push(sub);
      } else if (text[i] === '"') {
        let s = "";
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\") i++;
          s += text[i] ?? "";
          i++;
        }
        if (text[i] !== '"') return undefined;
        i++;
        items.push(element(s, kind));
      } else {
        let j = i;
        while (j < text.length && text[j] !== "," && text[j] !== "}") j++;
        const raw = text.slice(i, j).trim();
        i = j;
        items.push(element(/^null$/i.test(raw) ? null : raw, kind));
      }
      if (text[i] === ",") i++;
      else if (text[i] === "}") {
        i++;
        return items;
      } else return undefined;
    }
    return undefined;
  };
  const out = parseLevel(1);
  return out && i === text.length ? out : undefined;
}

/** One column value of type `oid` as DBD::Pg returns it. */
export function pgWireValue(v: unknown, oid: number): WireValue {
  if (v === null || v === undefined) return null;
  const text = typeof v === "string" ? v : String(v);
  switch (oid) {
    case 16:
      return text === "t" ? "1" : "0";
    case 17:
      return bytesToPerl(byteaBytes(text));
    case 700:
    case 701:
      return perlNvOfText(text);
  }
  const kind = ARRAY_ELEMENTS[oid];
  if (kind) return parsePgArray(text, kind) ?? text;
  return text;
}
