/**
 * @module
 * Placeholders: finds DBI's `?`, Oracle-style `:1` and `:name` outside string literals, quoted
 * identifiers, comments and PostgreSQL dollar quotes, and rewrites them in a driver's syntax
 * (`:1` for Oracle, `$1` for PostgreSQL, `?1` for SQLite). PostgreSQL `::` casts and PL/SQL `:=`
 * are left alone. The SQLite dialect reads what SQLite itself does: `?NNN` (explicit number),
 * `$name` and `@name` (named), `[…]` and backtick quoting, no dollar quotes; each placeholder
 * gets SQLite's parameter index, so the count is sqlite3_bind_parameter_count. Also resolves
 * Perl's bind values to the placeholders (execute_statement, bind_param, do_statement).
 */

import type { BindAttr, BindScalar, BoundValue, OutKind, SqlTemplate } from "./driver.ts";

/** SQL with its placeholders rewritten, and the distinct placeholder keys in order. */
export interface CompiledSql {
  readonly text: string;
  /** "1", "2"… for positional placeholders, the lower-cased name for `:name`. */
  readonly keys: readonly string[];
  /** True when any placeholder was `:name`. */
  readonly named: boolean;
  /** The SQL around the placeholders and their ordinals, for drivers that render per execution. */
  readonly template: SqlTemplate;
  /** SQLite dialect only: each key's SQLite parameter index (parallel to `keys`). */
  readonly indexes?: readonly number[];
  /** SQLite dialect only: the statement's parameter count (the largest index), DBI's NUM_OF_PARAMS. */
  readonly paramCount?: number;
}

/** How a database spells placeholders and quotes; "sqlite" as SQLite's tokenizer does. */
export type SqlDialect = "sqlite" | undefined;

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_$#]/;
/** A character of a SQLite `$name`/`@name` parameter (SQLite's IdChar). */
const LITE_NAME = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Rewrites placeholders with `render(ordinal, key)`. */
export function compileSql(
  sql: string,
  render: (ordinal: number, key: string) => string,
  dialect?: SqlDialect,
): CompiledSql {
  const lite = dialect === "sqlite";
  const keys: string[] = [];
  const indexes: number[] = [];
  const occurrenceIndexes: number[] = [];
  let maxIndex = 0;
  let named = false;
  let out = "";
  const parts: string[] = [];
  const ordinals: number[] = [];
  const sources: string[] = [];
  let partStart = 0;
  const place = (key: string, source: string, explicit?: number): string => {
    const known = keys.indexOf(key);
    const index = indexes[known] ?? explicit ?? maxIndex + 1; // indexes is parallel to keys
    maxIndex = Math.max(maxIndex, index);
    const ordinal = ordinalOf(key);
    if (known < 0) indexes.push(index);
    occurrenceIndexes.push(index);
    parts.push(out.slice(partStart));
    ordinals.push(ordinal);
    sources.push(source);
    const rendered = render(ordinal, key);
    partStart = out.length + rendered.length;
    return rendered;
  };
  const ordinalOf = (key: string): number => {
    const i = keys.indexOf(key);
    if (i >= 0) return i + 1;
    keys.push(key);
    return keys.length;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"' || (lite && c === "`")) {
      const end = closeQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (lite && c === "[") {
      const end = sql.indexOf("]", i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (lite && c === "?" && /[0-9]/.test(next ?? "")) {
      let j = i + 1;
      while (j < sql.length && /[0-9]/.test(sql.charAt(j))) j++;
      const n = Number(sql.slice(i + 1, j));
      out += place(String(n), sql.slice(i, j), n);
      i = j;
    } else if (lite && c === "?") {
      out += place(String(maxIndex + 1), "?", maxIndex + 1);
      i++;
    } else if (lite && (c === "$" || c === "@") && LITE_NAME.test(next ?? "")) {
      let j = i + 1;
      while (j < sql.length && LITE_NAME.test(sql.charAt(j))) j++;
      named = true;
      out += place(sql.slice(i, j).toLowerCase(), sql.slice(i, j));
      i = j;
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (!lite && c === "$" && /[A-Za-z_$]/.test(next ?? "") && dollarTag(sql, i)) {
      const tag = dollarTag(sql, i)!;
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? sql.length : end + tag.length;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "?") {
      // A `?` is the next position (as SQLite and DBI number it), shared with `:n` of that number.
      let n = keys.length + 1;
      while (keys.includes(String(n))) n++;
      out += place(String(n), "?");
      i++;
    } else if (c === ":" && next === ":") {
      out += "::";
      i += 2;
    } else if (c === ":" && next !== undefined && /[0-9]/.test(next)) {
      let j = i + 1;
      while (j < sql.length && /[0-9]/.test(sql.charAt(j))) j++;
      const key = String(Number(sql.slice(i + 1, j)));
      out += place(key, sql.slice(i, j));
      i = j;
    } else if (
      c === ":" && next !== undefined && IDENT_START.test(next) &&
      !/[A-Za-z0-9_]/.test(sql[i - 1] ?? " ")
    ) {
      let j = i + 1;
      while (j < sql.length && IDENT.test(sql.charAt(j))) j++;
      const key = sql.slice(i + 1, j).toLowerCase();
      named = true;
      out += place(key, sql.slice(i, j));
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  parts.push(out.slice(partStart));
  const template = { parts, ordinals, sources, ...(lite ? { indexes: occurrenceIndexes } : {}) };
  return lite
    ? { text: out, keys, named, template, indexes, paramCount: maxIndex }
    : { text: out, keys, named, template };
}

/** Index just past the closing quote (doubled quotes are escapes). */
function closeQuote(sql: string, start: number, q: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** `$tag$` at `i`, if it is a PostgreSQL dollar quote opener. */
function dollarTag(sql: string, i: number): string | undefined {
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
  return m ? m[0] : undefined;
}

/** Normalises a bind_param / bind_param_inout name: "1", ":1", 1 → "1"; ":Name" → "name". */
export function bindKey(name: unknown): string {
  const s = String(name).trim().replace(/^:/, "");
  return /^[0-9]+$/.test(s) ? String(Number(s)) : s.toLowerCase();
}

/** A JSON value from Perl as a bind scalar (JSON::PP booleans become 1/0, as in Perl). */
export function toBindScalar(v: unknown): BindScalar {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" || typeof v === "string") return v;
  return JSON.stringify(v);
}

/**
 * The attributes of a bind_param as the wrapper sends them (`attr`): DBI's `SQL_*` type as a bare
 * number or `{TYPE => n}`, or a driver's own `{pg_type => n}` / `{ora_type => n}`.
 */
export function toBindAttr(attr: unknown): BindAttr | undefined {
  if (typeof attr === "number" || (typeof attr === "string" && /^-?[0-9]+$/.test(attr))) {
    return { sqlType: Number(attr) };
  }
  if (!attr || typeof attr !== "object" || Array.isArray(attr)) return undefined;
  const o = attr as Record<string, unknown>;
  const num = (v: unknown) =>
    typeof v === "number" || (typeof v === "string" && /^-?[0-9]+$/.test(v))
      ? Number(v)
      : undefined;
  const out: { sqlType?: number; pgType?: number; oraType?: number } = {};
  const sqlType = num(o.TYPE), pgType = num(o.pg_type), oraType = num(o.ora_type);
  if (sqlType !== undefined) out.sqlType = sqlType;
  if (pgType !== undefined) out.pgType = pgType;
  if (oraType !== undefined) out.oraType = oraType;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** An OUT/INOUT bind registered with bind_param_inout. */
export interface OutBindSpec {
  readonly initial: BindScalar;
  readonly size: number;
  readonly kind: OutKind;
}

/**
 * Resolves values for each placeholder key. Numeric keys take `positional[key-1]`; a name takes
 * `named[name]`, else the positional value at its own position (first appearance order).
 * Returns an error text when a placeholder has no value.
 */
export function resolveBinds(
  compiled: CompiledSql,
  positional: readonly BindScalar[],
  named: ReadonlyMap<string, BindScalar>,
  outs: ReadonlyMap<string, OutBindSpec> = new Map(),
  attrs: ReadonlyMap<string, BindAttr> = new Map(),
): BoundValue[] | string {
  const withAttr = (b: BoundValue): BoundValue => {
    const attr = attrs.get(b.key);
    return attr ? { ...b, attr } : b;
  };
  if (compiled.paramCount !== undefined) {
    return resolveSqlite(compiled, positional, named, outs, withAttr);
  }
  if (compiled.keys.length === 0) {
    // No placeholders we know: pass values through (PostgreSQL `$1`); the server checks them.
    return positional.map((value, i) => withAttr({ key: String(i + 1), value }));
  }
  const positionalKeys = compiled.keys.filter((k) => /^[0-9]+$/.test(k)).length;
  if (
    !compiled.named && outs.size === 0 && named.size === 0 && positional.length !== positionalKeys
  ) {
    // DBI's own text for a count mismatch.
    return `called with ${positional.length} bind variables when ${positionalKeys} are needed`;
  }
  const bound: BoundValue[] = [];
  for (const [i, key] of compiled.keys.entries()) {
    const out = outs.get(key);
    let value: BindScalar | undefined;
    if (/^[0-9]+$/.test(key)) {
      const idx = Number(key) - 1;
      if (idx < positional.length) value = positional[idx];
      else if (named.has(key)) value = named.get(key);
    } else if (named.has(key)) {
      value = named.get(key);
    } else if (!out && i < positional.length) {
      value = positional[i]; // a name takes the value at its position, as DBD::SQLite binds
    }
    if (out) {
      bound.push({ key, value: value ?? out.initial, out: { size: out.size, kind: out.kind } });
      continue;
    }
    if (value === undefined) {
      const label = /^[0-9]+$/.test(key) ? `placeholder ${key}` : `placeholder :${key}`;
      return `No value bound for ${label} (${compiled.keys.length} placeholders, ${positional.length} values given)`;
    }
    bound.push(withAttr({ key, value }));
  }
  return bound;
}

/**
 * DBD::SQLite's binding: execute's values go to parameter indexes 1..n and must number exactly
 * NUM_OF_PARAMS (DBI's check); a bind_param value goes to its name or index; a parameter given
 * no value is NULL (sqlite3 leaves it unbound), as in `$sth->execute()` and `$dbh->do($sql)`.
 */
function resolveSqlite(
  compiled: CompiledSql,
  positional: readonly BindScalar[],
  named: ReadonlyMap<string, BindScalar>,
  outs: ReadonlyMap<string, OutBindSpec>,
  withAttr: (b: BoundValue) => BoundValue,
): BoundValue[] | string {
  const count = compiled.paramCount ?? 0;
  if (positional.length > 0 && positional.length !== count) {
    return `called with ${positional.length} bind variables when ${count} are needed`;
  }
  return compiled.keys.map((key, i) => {
    const index = compiled.indexes?.[i] ?? i + 1;
    // execute's own values win over bind_param's, as in DBI.
    const value = positional.length > 0
      ? positional[index - 1]
      : named.get(key) ?? named.get(String(index));
    const out = outs.get(key);
    if (out) return { key, value: value ?? out.initial, out: { size: out.size, kind: out.kind } };
    return withAttr({ key, value: value ?? null });
  });
}
