/**
 * @module
 * What Excel::Writer::XLSX's `write()` makes of a value (Worksheet.pm `write`): numbers, strings
 * that look like numbers, URLs, formulas, array formulas, blanks, and array refs (`write_row` /
 * `write_col`). Values arrive as JSON, so DB strings such as "123" become numbers, as in Perl.
 */

import { perlNumberText, perlNumify } from "../types.ts";

/** One cell as Excel::Writer::XLSX would store it. */
export type CellValue =
  | {
    readonly kind: "number";
    readonly value: number;
    /** The number as Perl stringifies it, which is what Excel::Writer::XLSX puts in `<v>`. */
    readonly text: string;
  }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "formula"; readonly value: string; readonly array: boolean }
  | {
    readonly kind: "url";
    readonly value: string;
    readonly target: string;
    readonly location?: string;
  }
  | { readonly kind: "blank" };

/** Excel's limits (Worksheet.pm `_check_dimensions`, `_xls_strmax`). */
export const MAX_ROW = 1_048_575;
export const MAX_COL = 16_383;
export const MAX_STRING = 32_767;
const MAX_URL = 2079;

/** Worksheet.pm's number pattern; Perl's `$` also matches before a final newline. */
const NUMBER_RE = /^([+-]?)(?=[0-9]|\.[0-9])[0-9]*(\.[0-9]*)?([Ee]([+-]?[0-9]+))?\n?$/;

/** A number cell from a JS number (a JSON number from Perl) or from a Perl string's numification. */
function numberCell(v: number | string): CellValue {
  const text = typeof v === "number" ? perlNumberText(v) : perlNumify(v);
  return { kind: "number", value: Number(text), text };
}

/** An explicit cell type (the wrapper's write_string/write_number/write_formula), or auto. */
export type WriteType = "auto" | "string" | "number" | "formula" | "url" | "blank";

/** Result of classifying a value: a cell, or an error text for the caller. */
export type Classified = { cell: CellValue; warning?: string } | { error: string };

function urlCell(url: string): Classified {
  let target = url;
  let text = url;
  let location: string | undefined;
  if (target.startsWith("internal:")) {
    target = target.slice(9);
    text = text.slice(9);
    return { cell: { kind: "url", value: text, target: "", location: target } };
  }
  let external = false;
  if (target.startsWith("external:")) {
    target = target.slice(9).replaceAll("/", "\\");
    text = text.slice(9).replaceAll("/", "\\");
    external = true;
  }
  text = text.replace(/^mailto:/, "");
  const hash = target.indexOf("#");
  if (hash >= 0) {
    location = target.slice(hash + 1);
    target = target.slice(0, hash);
  }
  if (external && (/^\w:/.test(target) || target.startsWith("\\\\"))) target = "file:///" + target;
  if (target.length > MAX_URL || (location?.length ?? 0) > MAX_URL) {
    return { error: `Ignoring URL '${target}': link or anchor longer than ${MAX_URL} characters` };
  }
  return { cell: { kind: "url", value: text, target, ...(location ? { location } : {}) } };
}

function stringCell(s: string): Classified {
  if (s.length > MAX_STRING) {
    return {
      cell: { kind: "string", value: s.slice(0, MAX_STRING) },
      warning: `String longer than ${MAX_STRING} characters; truncated`,
    };
  }
  return { cell: { kind: "string", value: s } };
}

/** Classifies one scalar as `write()` does (or as the explicit `type` says). */
export function classify(data: unknown, type: WriteType = "auto"): Classified {
  if (data !== null && typeof data === "object") {
    return { error: "Cannot write a hash to a cell: pass a scalar or an array" };
  }
  const token = data === undefined || data === null
    ? ""
    : typeof data === "boolean"
    ? (data ? "1" : "")
    : typeof data === "number"
    ? data
    : String(data);
  switch (type) {
    case "number":
      return { cell: numberCell(token) };
    case "string":
      return token === "" ? { cell: { kind: "blank" } } : stringCell(String(token));
    case "formula": {
      const f = String(token);
      const array = /^\{=.*\}$/s.test(f);
      const body = array ? f.slice(2, -1) : f.replace(/^=/, "");
      return { cell: { kind: "formula", value: body, array } };
    }
    case "url":
      return urlCell(String(token));
    case "blank":
      return { cell: { kind: "blank" } };
  }
  if (typeof token === "number") {
    return Number.isFinite(token) ? { cell: numberCell(token) } : stringCell(String(token));
  }
  if (NUMBER_RE.test(token)) return { cell: numberCell(token) };
  if (/^[fh]tt?ps?:\/\//.test(token) || token.startsWith("mailto:")) return urlCell(token);
  if (/^(?:in|ex)ternal:/.test(token)) return urlCell(token);
  if (token.startsWith("=")) {
    return { cell: { kind: "formula", value: token.slice(1), array: false } };
  }
  if (/^\{=.*\}$/s.test(token)) {
    return { cell: { kind: "formula", value: token.slice(2, -1), array: true } };
  }
  if (token === "") return { cell: { kind: "blank" } };
  return stringCell(token);
}

/** One cell to store at (row, col). */
export interface Placed {
  readonly row: number;
  readonly col: number;
  readonly cell: CellValue;
}

/**
 * Expands `write()`'s array refs: an array is `write_row` (elements to the right; an element
 * that is itself an array is written down as `write_col`), and inside `write_col` the roles swap.
 */
export function expand(
  row: number,
  col: number,
  data: unknown,
  type: WriteType,
  out: Placed[],
  warnings: string[],
  down = false,
): string | undefined {
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      const r = down ? row + i : row;
      const c = down ? col : col + i;
      const item = data[i];
      const err = Array.isArray(item)
        ? expand(r, c, item, type, out, warnings, !down)
        : expand(r, c, item, type, out, warnings, down);
      if (err) return err;
    }
    return undefined;
  }
  if (row < 0 || col < 0 || row > MAX_ROW || col > MAX_COL) {
    return `Cell (${row}, ${col}) is outside Excel's limits (rows 0..${MAX_ROW}, columns 0..${MAX_COL})`;
  }
  const c = classify(data, type);
  if ("error" in c) return c.error;
  if (c.warning) warnings.push(c.warning);
  out.push({ row, col, cell: c.cell });
  return undefined;
}
