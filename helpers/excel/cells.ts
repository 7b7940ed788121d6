/**
 * @module
 * What Excel::Writer::XLSX's `write()` makes of a value (Worksheet.pm `write`): numbers, strings
 * that look like numbers, URLs, formulas, array formulas, blanks, and array refs (`write_row` /
 * `write_col`). Values arrive as JSON, so DB strings such as "123" become numbers, as in Perl.
 */

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

const IV_MIN = -(2n ** 63n);
const UV_MAX = 2n ** 64n - 1n;

/**
 * Perl's stringification of a number (`"$n"`): integers in IV/UV range in full, anything else
 * as `%.15g`. A JSON number reaches the daemon as a double, so an integer above 2^53 has already
 * lost its last digits (daemon contract W8); a string keeps them (see `perlNumify`).
 */
export function perlNumberText(n: number): string {
  if (Number.isInteger(n)) {
    const b = BigInt(n);
    if (b >= IV_MIN && b <= UV_MAX) return b.toString();
  }
  return perlNvText(n);
}

/** C's `%.15g` as Perl prints an NV ("1e+308", "0.333333333333333", "Inf", "-0" as "0"). */
export function perlNvText(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Inf" : "-Inf";
  if (n === 0) return "0";
  const [mant, ex] = n.toExponential(14).split("e");
  const x = Number(ex);
  const trim = (t: string) => t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t;
  if (x < -4 || x >= 15) {
    const digits = String(Math.abs(x)).padStart(2, "0");
    return `${trim(mant)}e${x < 0 ? "-" : "+"}${digits}`;
  }
  return trim(n.toFixed(14 - x));
}

/**
 * `$string + 0` in Perl, stringified: leading white space and a sign, then an integer (kept
 * exactly within IV/UV range, so "12345678901234567890" stays itself) or a decimal/exponent
 * number (an NV, `%.15g`), "Inf"/"NaN"; trailing garbage is ignored and no number at all is 0.
 */
export function perlNumify(s: string): string {
  const m = /^[\t\n\v\f\r ]*([+-]?)(?:(\d+)(\.\d*)?|(\.\d+))([eE][+-]?\d+)?/.exec(s);
  if (!m) {
    const special = /^[\t\n\v\f\r ]*([+-]?)(inf(?:inity)?|nan)/i.exec(s);
    if (!special) return "0";
    if (/^nan/i.test(special[2])) return "NaN";
    return special[1] === "-" ? "-Inf" : "Inf";
  }
  const [, sign, int, frac, fracOnly, exp] = m;
  if (int !== undefined && frac === undefined && exp === undefined) {
    const b = BigInt(sign + int);
    if (b >= IV_MIN && b <= UV_MAX) return b.toString();
  }
  return perlNvText(Number(sign + (int ?? "") + (frac ?? fracOnly ?? "") + (exp ?? "")));
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
