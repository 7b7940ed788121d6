/**
 * @module
 * The statement functions of the `database` helper: `prepare`, `execute_statement`, `fetch_row`,
 * `fetch_all` and `do_statement`/`execute_immediate`. Counts are DBI's: `rows_affected` of
 * execute_statement is what `$sth->execute` returns (DBIHelper turns 0 into "0E0" and also reads
 * it for `$sth->rows`), and that of do_statement is what `$dbh->do` returns, "0E0" included,
 * since DBIHelper hands it on unchanged.
 */

import type { Args, CallContext } from "../types.ts";
import { columnInfo, type Reply, shape, withConn, withStmt } from "./calls.ts";
import type { BindAttr, BindScalar, WireValue } from "./driver.ts";
import { bindKey, compileSql, resolveBinds, toBindAttr, toBindScalar } from "./sql.ts";
import { DbFailure, effectiveAutoCommit, type StmtState, tables } from "./session.ts";

const FETCH_BATCH = 100;

/** `prepare`: compiles the placeholders; the driver checks the SQL where the DBD does. */
export function prepare(args: Args, ctx: CallContext): Promise<Reply> {
  return withConn(ctx, args.connection_id, async (c, native) => {
    if (typeof args.sql !== "string" || args.sql.trim() === "") {
      throw new DbFailure("prepare needs a non-empty sql string");
    }
    // DBD::SQLite compiles at prepare (only the first statement): bad SQL makes prepare return
    // undef with errstr set.
    const conn = await native();
    const sql = conn.firstStatement?.(args.sql) ?? args.sql;
    const compiled = compileSql(sql, c.driver.placeholder, c.driver.dialect);
    await conn.check?.(compiled.text, compiled.template);
    const { stmts } = tables(ctx);
    const sid = stmts.add({
      connId: args.connection_id as string,
      sql: args.sql,
      compiled,
      result: undefined,
      executed: false,
      finished: false,
      buffer: [],
      columnNames: [],
      outs: new Map(),
      outValues: {},
      lastError: null,
    });
    c.statements.add(sid);
    c.lastError = null;
    return { success: true, statement_id: sid };
  });
}

/** Positional and named bind values of execute_statement, and bind_param attributes by key. */
function bindInputs(args: Args): {
  positional: BindScalar[];
  named: Map<string, BindScalar>;
  attrs: Map<string, BindAttr>;
} {
  const values = Array.isArray(args.bind_values) ? args.bind_values.map(toBindScalar) : [];
  const params = args.bind_params && typeof args.bind_params === "object"
    ? args.bind_params as Record<string, unknown>
    : {};
  const named = new Map<string, BindScalar>();
  const attrs = new Map<string, BindAttr>();
  const keys = Object.keys(params);
  const entry = (k: string) => {
    const p = params[k];
    return p && typeof p === "object" && "value" in p
      ? p as { value: unknown; attr?: unknown }
      : { value: p };
  };
  const valueOf = (k: string) => toBindScalar(entry(k).value);
  for (const k of keys) {
    named.set(bindKey(k), valueOf(k));
    const attr = toBindAttr(entry(k).attr);
    if (attr) attrs.set(bindKey(k), attr);
  }
  // DEFECT-FIX (contract §3.1): DBIHelper sends bind_param values twice, once in bind_params and
  // once as bind_values in Perl's `sort keys` order. When bind_values is exactly that copy, bind by
  // the bind_param names; otherwise execute's own values win by position, as in DBI (the
  // bind_param attributes stay, as DBI keeps a placeholder's type).
  const derived = [...keys].sort().map(valueOf);
  const isCopy = keys.length > 0 && values.length === derived.length &&
    values.every((v, i) => v === derived[i]);
  return { positional: isCopy || values.length === 0 ? [] : values, named, attrs };
}

/** `execute_statement`: binds and runs a prepared statement; rows are read by the fetches. */
export function executeStatement(args: Args, ctx: CallContext): Promise<Reply> {
  return withStmt(ctx, args.statement_id, async (s, c, native) => {
    const conn = await native();
    await s.result?.close().catch(() => {});
    Object.assign(s, {
      result: undefined,
      executed: false,
      finished: false,
      buffer: [],
      outValues: {},
    });
    const { positional, named, attrs } = bindInputs(args);
    const binds = resolveBinds(s.compiled, positional, named, s.outs, attrs);
    if (typeof binds === "string") throw new DbFailure(binds);
    const res = await conn.execute(s.compiled.text, binds, {
      autoCommit: effectiveAutoCommit(c),
      mode: "execute",
      template: s.compiled.template,
    });
    if (!effectiveAutoCommit(c)) c.dirty = true;
    s.result = res;
    s.executed = true;
    s.outValues = res.outValues;
    s.columnNames = res.columns?.map((col) => col.name) ?? [];
    s.lastError = null;
    c.lastError = null;
    return {
      success: true,
      rows_affected: res.rowsAffected,
      column_info: columnInfo(res.columns),
      debug_info:
        `Connection ${s.connId} found in memory - Statement ${args.statement_id} found in memory`,
    };
  });
}

/** Next rows of an executed statement: buffered rows first, then the driver's. */
async function nextRows(s: StmtState, max: number): Promise<WireValue[][]> {
  if (s.buffer.length === 0 && s.result) {
    s.buffer = await s.result.fetch(Math.max(max, FETCH_BATCH));
  }
  const rows = s.buffer.slice(0, max);
  s.buffer = s.buffer.slice(max);
  return rows;
}

/** `fetch_row`: the next row, or `{success:false}` with no error key at the end. */
export function fetchRow(args: Args, ctx: CallContext): Promise<Reply> {
  return withStmt(ctx, args.statement_id, async (s) => {
    if (!s.executed) throw new DbFailure("Statement not executed");
    if (s.finished) return { success: false }; // end of data: no error key (contract §3.1)
    const [row] = await nextRows(s, 1);
    if (!row) {
      s.finished = true;
      return { success: false };
    }
    return { success: true, row: shape(row, s.columnNames, args.format) };
  });
}

/** `fetch_all`: every remaining row. */
export function fetchAll(args: Args, ctx: CallContext): Promise<Reply> {
  return withStmt(ctx, args.statement_id, async (s) => {
    if (!s.executed) throw new DbFailure("Statement not executed");
    const rows: WireValue[][] = [];
    while (!s.finished) {
      const batch = await nextRows(s, FETCH_BATCH);
      if (batch.length === 0) s.finished = true;
      rows.push(...batch);
    }
    return { success: true, rows: rows.map((r) => shape(r, s.columnNames, args.format)) };
  });
}

/** `do_statement` / `execute_immediate`: `$dbh->do`, plus the rows of a query. */
export function doStatement(args: Args, ctx: CallContext): Promise<Reply> {
  return withConn(ctx, args.connection_id, async (c, native) => {
    if (typeof args.sql !== "string" || args.sql.trim() === "") {
      throw new DbFailure("do needs a non-empty sql string");
    }
    const conn = await native();
    const sql = conn.firstStatement?.(args.sql) ?? args.sql;
    const compiled = compileSql(sql, c.driver.placeholder, c.driver.dialect);
    const given = Array.isArray(args.bind_values) ? args.bind_values.map(toBindScalar) : [];
    let values = given;
    if (c.driver.doIgnoresExtraBinds) {
      // DBD::SQLite's do: `execute(splice @binds, 0, NUM_OF_PARAMS)` of the first statement.
      values = values.slice(0, compiled.paramCount ?? compiled.keys.length);
    }
    const binds = resolveBinds(compiled, values, new Map());
    if (typeof binds === "string") throw new DbFailure(binds);
    const res = await conn.execute(compiled.text, binds, {
      autoCommit: effectiveAutoCommit(c),
      mode: "do",
      template: compiled.template,
      viaExec: given.length === 0 && !args.sql.includes(";"),
    });
    if (!effectiveAutoCommit(c)) c.dirty = true;
    c.lastError = null;
    // DBI's do: "0E0" (zero but true) when no rows were affected.
    const count = res.rowsAffected === 0 ? "0E0" : res.rowsAffected;
    try {
      if (!res.columns) return { success: true, rows_affected: count };
      const rows: WireValue[][] = [];
      for (let b = await res.fetch(FETCH_BATCH); b.length > 0; b = await res.fetch(FETCH_BATCH)) {
        rows.push(...b);
      }
      return { success: true, rows, rows_affected: count, column_info: columnInfo(res.columns) };
    } finally {
      await res.close();
    }
  });
}
