/**
 * @module
 * What every `database` wire function shares: running work on a connection or statement under the
 * connection's lock with failures turned into `{success:false, error}` (recorded for
 * get_*_error), Perl truthiness of DBI attributes, and the `column_info` / row shapes DBIHelper
 * reads.
 */

import type { Args, CallContext } from "../types.ts";
import { failure } from "../types.ts";
import type { ColumnMeta, Driver, DriverConnection, WireValue } from "./driver.ts";
import { type ConnState, ensureNative, failureText, type StmtState, tables } from "./session.ts";

/** The drivers by DSN driver name. */
export interface Drivers {
  readonly oracle: Driver;
  readonly pg: Driver;
  readonly sqlite: Driver;
}

/** One wire function's reply. */
export type Reply = Record<string, unknown>;

/** Perl truthiness of an attribute value (0, "0", "", undef are false). */
export function perlTrue(v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return !(v === null || v === false || v === 0 || v === "" || v === "0");
}

/** A parameter as a string ("" for undef). */
export function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

/** The `options` object of a connect call. */
export function optionsOf(args: Args): Record<string, unknown> {
  return (args.options && typeof args.options === "object" ? args.options : {}) as Record<
    string,
    unknown
  >;
}

/** `column_info` of the Python helper: count, names, types, columns[]. */
export function columnInfo(cols: readonly ColumnMeta[] | null): Reply | null {
  if (!cols) return null;
  return {
    count: cols.length,
    names: cols.map((c) => c.name),
    types: cols.map((c) => c.type),
    columns: cols,
  };
}

/** A row as an array, or as a hash by column name for `format: "hash"`. */
export function shape(
  row: WireValue[],
  names: readonly string[],
  format: unknown,
): WireValue[] | Record<string, WireValue> {
  if (format !== "hash") return row;
  const o: Record<string, WireValue> = {};
  names.forEach((n, i) => (o[n] = row[i] ?? null));
  return o;
}

/** Runs `op` on connection `id` under its lock, turning failures into `{success:false}`. */
export async function withConn(
  ctx: CallContext,
  id: unknown,
  op: (c: ConnState, native: () => Promise<DriverConnection>) => Promise<Reply>,
): Promise<Reply> {
  const { conns } = tables(ctx);
  if (typeof id !== "string" || !conns.has(id)) return failure("Invalid connection ID");
  return await conns.withLock(id, async (c) => {
    let used: DriverConnection | undefined;
    try {
      return await op(c, async () => (used = await ensureNative(ctx, c)));
    } catch (e) {
      const text = await failureText(c, used, e);
      c.lastError = text;
      return failure(text);
    }
  });
}

/** Runs `op` on statement `sid` under its connection's lock. */
export async function withStmt(
  ctx: CallContext,
  sid: unknown,
  op: (s: StmtState, c: ConnState, native: () => Promise<DriverConnection>) => Promise<Reply>,
  invalid = "Invalid statement ID",
): Promise<Reply> {
  const { stmts } = tables(ctx);
  const s = stmts.get(sid);
  if (!s) return failure(invalid);
  const r = await withConn(ctx, s.connId, (c, native) => op(s, c, native));
  if (r.success === false && typeof r.error === "string") s.lastError = r.error;
  return r;
}
