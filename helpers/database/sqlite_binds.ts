/**
 * @module
 * Bytes in and out of SQLite the way DBD::SQLite 1.72 (no `sqlite_unicode`) moves them, on top of
 * `node:sqlite`, whose strings are UTF-8 both ways and stop at a NUL.
 *
 * - A bind is TEXT holding the Perl string's bytes. An ASCII string without NUL binds as it is;
 *   any other is bound as a BLOB of its bytes under `(CAST(?n AS TEXT)||'')`, which is TEXT with
 *   those exact bytes and, like a bare parameter, no affinity (so `? = 3` stays false for "3",
 *   as in DBD::SQLite).
 * - SQL_BLOB/SQL_BINARY/SQL_VARBINARY/SQL_LONGVARBINARY binds are BLOBs; SQL_INTEGER-like and
 *   SQL_DOUBLE-like binds are numbers when the text is one (else TEXT, where DBD::SQLite warns).
 * - A query is read through `WITH q(c1,…) AS MATERIALIZED (<sql>) SELECT c1, CAST(c1 AS BLOB)…`,
 *   so TEXT comes back as its bytes; MATERIALIZED keeps SQLite from flattening the CTE, which
 *   would evaluate each column expression up to three times (random() would disagree with
 *   itself). Statements that cannot be wrapped (PRAGMA, RETURNING) are read directly.
 */

import { bytesToPerl, perlBytes, perlNumberText, perlNv } from "../types.ts";
import type { BoundValue, SqlTemplate, WireValue } from "./driver.ts";
import { SQL_BINARY_TYPES } from "./driver.ts";

/** A value for node:sqlite, and whether its placeholder needs the TEXT cast. */
export interface SqliteValue {
  readonly value: null | bigint | number | string | Uint8Array;
  readonly asText: boolean;
}

/** DBI SQL_* types DBD::SQLite binds as integers (SQL_BOOLEAN, INTEGER, SMALLINT, TINYINT, BIGINT). */
const INTEGER_TYPES = new Set([16, 4, 5, -6, -5]);
/** … and as reals (SQL_FLOAT, SQL_REAL, SQL_DOUBLE). */
const FLOAT_TYPES = new Set([6, 7, 8]);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// deno-lint-ignore no-control-regex
const PLAIN_ASCII = /^[\u0001-\u007f]*$/;
const utf8 = new TextEncoder();

/** The value and placeholder form DBD::SQLite would use for `b`. */
export function sqliteBind(b: BoundValue): SqliteValue {
  const v = b.value;
  if (v === null) return { value: null, asText: false };
  const text = typeof v === "number" ? perlNumberText(v) : String(v);
  const type = b.attr?.sqlType;
  if (type !== undefined && SQL_BINARY_TYPES.has(type)) {
    return { value: perlBytes(text), asText: false };
  }
  if (type !== undefined && (INTEGER_TYPES.has(type) || FLOAT_TYPES.has(type))) {
    const t = text.replace(/^ +/, "");
    if (/^[+-]?[0-9]+$/.test(t)) {
      const n = BigInt(t);
      if (n >= INT64_MIN && n <= INT64_MAX) return { value: n, asText: false };
    }
    if (FLOAT_TYPES.has(type) && /^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(t)) {
      return { value: Number(t), asText: false };
    }
  }
  if (PLAIN_ASCII.test(text)) return { value: text, asText: false };
  return { value: perlBytes(text), asText: true };
}

/**
 * The statement text for these values. `plain`: each placeholder as written (`?`, `$name`,
 * `:1`), the text whose errors, column names and declared types are DBD::SQLite's. Otherwise the
 * text that runs: each placeholder as `?NNN` of its SQLite index (so node:sqlite binds by index,
 * as DBD::SQLite does), a byte TEXT value as `(CAST(?NNN AS TEXT)||'')`.
 */
export function bindSql(t: SqlTemplate, values: readonly SqliteValue[], plain = false): string {
  let out = t.parts[0] ?? "";
  t.ordinals.forEach((ordinal, i) => {
    const src = plain ? t.sources[i] ?? "?" : `?${t.indexes?.[i] ?? ordinal}`;
    out += !plain && values[ordinal - 1]?.asText ? `(CAST(${src} AS TEXT)||'')` : src;
    out += t.parts[i + 1] ?? "";
  });
  return out;
}

/**
 * The arguments for node:sqlite's run/all on `bindSql`'s running text: one value per parameter
 * index 1..n (node:sqlite binds a list to `?1`, `?2`… in order), NULL where none is bound.
 */
export function sqliteArgs(t: SqlTemplate | undefined, values: readonly SqliteValue[]): unknown[] {
  if (!t) return values.map((v) => v.value);
  const args: unknown[] = [];
  t.ordinals.forEach((ordinal, i) => {
    const index = t.indexes?.[i] ?? ordinal;
    while (args.length < index) args.push(null);
    args[index - 1] = values[ordinal - 1]?.value ?? null;
  });
  return args;
}

/** The query `sql` (with `n` columns) wrapped so each column also comes back as its bytes. */
export function readSql(sql: string, n: number): string {
  const names = Array.from({ length: n }, (_, i) => `"c${i + 1}"`);
  const select = names.map((c) =>
    `${c}, CASE WHEN typeof(${c}) = 'text' THEN CAST(${c} AS BLOB) END`
  );
  return `WITH "cpan_bridge_q"(${names.join(", ")}) AS MATERIALIZED (\n${
    sql.replace(/[\s;]+$/, "")
  }\n) ` +
    `SELECT ${select.join(", ")} FROM "cpan_bridge_q"`;
}

/** A column value as DBD::SQLite returns it; `bytes` is the value's BLOB form when it is TEXT. */
export function sqliteResult(v: unknown, bytes: unknown): WireValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return perlNv(v);
  if (v instanceof Uint8Array) return bytesToPerl(v);
  if (bytes instanceof Uint8Array) return bytesToPerl(bytes);
  return bytesToPerl(utf8.encode(String(v)));
}
