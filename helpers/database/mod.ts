/**
 * @module
 * `database`: serves DBIHelper.pm, which replaces DBI + DBD::Oracle (helpers contract §3.1). Flat
 * results (`$r->{connection_id}`, `$r->{rows}`). Drivers sit behind the `Driver` seam: Oracle
 * (`oracledb` thin), PostgreSQL (`pg`) and SQLite (`node:sqlite`), chosen by the DSN.
 * Connections and statements live in handle tables with a 1,800 s idle TTL; calls on one
 * connection run one at a time. Expected failures are returned as `{success:false, error}`.
 */

import type { Args, CallContext, HelperDefinition } from "../types.ts";
import { defineHelper, failure, fn } from "../types.ts";
import type { BindScalar, ColumnMeta, Driver, DriverConnection, WireValue } from "./driver.ts";
import { describeDsn, parseDsn } from "./dsn.ts";
import { oracleDriver } from "./oracle.ts";
import { postgresDriver } from "./postgres.ts";
import { bindKey, compileSql, type OutBindSpec, resolveBinds, toBindScalar } from "./sql.ts";
import { sqliteDriver } from "./sqlite.ts";
import {
  CACHE_MAX,
  type ConnState,
  DbFailure,
  effectiveAutoCommit,
  ensureNative,
  failureText,
  scrub,
  type StmtState,
  tables,
} from "./session.ts";

/** The drivers by DSN driver name. */
export interface Drivers {
  readonly oracle: Driver;
  readonly pg: Driver;
  readonly sqlite: Driver;
}

const FETCH_BATCH = 100;

/** Perl truthiness of an attribute value (0, "0", "", undef are false). */
function perlTrue(v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return !(v === null || v === false || v === 0 || v === "" || v === "0");
}

function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

/** `column_info` of the Python helper: count, names, types, columns[]. */
function columnInfo(cols: readonly ColumnMeta[] | null): Record<string, unknown> | null {
  if (!cols) return null;
  return {
    count: cols.length,
    names: cols.map((c) => c.name),
    types: cols.map((c) => c.type),
    columns: cols,
  };
}

function shape(
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
async function withConn(
  ctx: CallContext,
  id: unknown,
  op: (c: ConnState, native: () => Promise<DriverConnection>) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const { conns } = tables(ctx);
  if (typeof id !== "string" || !conns.has(id)) return failure("Invalid connection ID");
  return await conns.withLock(id, async (c) => {
    let used: DriverConnection | undefined;
    try {
      const r = await op(c, async () => (used = await ensureNative(ctx, c)));
      return r;
    } catch (e) {
      const text = await failureText(c, used, e);
      c.lastError = text;
      return failure(text);
    }
  });
}

/** Runs `op` on statement `sid` under its connection's lock. */
async function withStmt(
  ctx: CallContext,
  sid: unknown,
  op: (
    s: StmtState,
    c: ConnState,
    native: () => Promise<DriverConnection>,
  ) => Promise<Record<string, unknown>>,
  invalid = "Invalid statement ID",
): Promise<Record<string, unknown>> {
  const { stmts } = tables(ctx);
  const s = stmts.get(sid);
  if (!s) return failure(invalid);
  const r = await withConn(ctx, s.connId, (c, native) => op(s, c, native));
  if (r.success === false && typeof r.error === "string") s.lastError = r.error;
  return r;
}

function pickDriver(drivers: Drivers, d: "oracle" | "pg" | "sqlite"): Driver {
  return drivers[d];
}

async function connect(
  drivers: Drivers,
  args: Args,
  ctx: CallContext,
): Promise<Record<string, unknown>> {
  const password = str(args.password);
  const parsed = parseDsn(str(args.dsn), str(args.username));
  if ("error" in parsed) return failure(parsed.error);
  const options = (args.options && typeof args.options === "object" ? args.options : {}) as Record<
    string,
    unknown
  >;
  const driver = pickDriver(drivers, parsed.dsn.driver);
  let authMode = str(args.auth_mode) || "auto";
  if (!["auto", "password", "kerberos"].includes(authMode)) {
    return failure(`Invalid auth_mode '${authMode}': use 'auto', 'password' or 'kerberos'`);
  }
  if (authMode === "auto") {
    const krb = parsed.dsn.driver === "oracle" && (await ctx.callerEnv("KRB5_CONFIG")) &&
      (await ctx.callerEnv("KRB5CCNAME"));
    authMode = krb ? "kerberos" : "password";
  }
  const req = {
    dsn: parsed.dsn,
    username: parsed.username,
    password,
    externalAuth: authMode === "kerberos",
    resolvePath: (p: string) => ctx.resolvePath(p),
    env: (n: string) => ctx.callerEnv(n),
  };
  const label = describeDsn(parsed.dsn);
  let native: DriverConnection;
  try {
    native = await driver.connect(req);
  } catch (e) {
    const text = scrub(driver.errorText(e), password);
    ctx.log.warn(
      `database: connect to ${label} as ${parsed.username || "(default user)"} failed: ${text}`,
    );
    return failure(`Cannot connect to ${label}: ${text}`);
  }
  const state: ConnState = {
    driver,
    req,
    native,
    autoCommit: perlTrue(options.AutoCommit, true),
    raiseError: perlTrue(options.RaiseError, false),
    printError: perlTrue(options.PrintError, true),
    authMode,
    inWork: false,
    dirty: false,
    lostInTxn: undefined,
    lastError: null,
    statements: new Set(),
    label,
  };
  const id = tables(ctx).conns.add(state);
  ctx.log.info(`database: connected to ${label} as ${parsed.username || "(default user)"} (${id})`);
  return { success: true, connection_id: id, db_type: driver.dbType, auth_mode: authMode };
}

/** connect_cached key: DSN, user, a digest of the password, the DBI attrs, and the caller PID. */
async function cacheKey(args: Args, ctx: CallContext): Promise<string> {
  const o = (args.options && typeof args.options === "object" ? args.options : {}) as Record<
    string,
    unknown
  >;
  const attrs = `ac${perlTrue(o.AutoCommit, true) ? 1 : 0}_re${
    perlTrue(o.RaiseError, false) ? 1 : 0
  }_pe${perlTrue(o.PrintError, true) ? 1 : 0}`;
  const raw = [str(args.dsn), str(args.username), str(args.password), attrs, ctx.callerPid ?? ""]
    .join("\u0000");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(raw)),
  );
  return "dbcache_" +
    Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function connectCached(
  drivers: Drivers,
  args: Args,
  ctx: CallContext,
): Promise<Record<string, unknown>> {
  const { conns, cache } = tables(ctx);
  const key = await cacheKey(args, ctx);
  const hit = cache.get(key);
  if (hit && conns.has(hit.connectionId)) {
    const alive = await conns.withLock(hit.connectionId, async (c) => {
      if (c.lostInTxn || !c.native || c.native.lost) return false;
      try {
        await c.native.ping();
        return c;
      } catch {
        return false;
      }
    });
    if (alive) {
      return {
        success: true,
        connection_id: hit.connectionId,
        db_type: alive.driver.dbType,
        auth_mode: alive.authMode,
        cached: true,
      };
    }
    await conns.delete(hit.connectionId, "connect_cached: connection dead");
  }
  if (hit) await cache.delete(key, "stale");
  const r = await connect(drivers, args, ctx);
  if (r.success !== true) return r;
  if (cache.size >= CACHE_MAX) await cache.delete(cache.ids()[0], "connect_cached: cache full");
  cache.add({ connectionId: r.connection_id as string }, key);
  return { ...r, cached: false };
}

function prepare(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  return withConn(ctx, args.connection_id, (c) => {
    if (typeof args.sql !== "string" || args.sql.trim() === "") {
      throw new DbFailure("prepare needs a non-empty sql string");
    }
    const compiled = compileSql(args.sql, c.driver.placeholder);
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
    return Promise.resolve({ success: true, statement_id: sid });
  });
}

/** Positional and named bind values of execute_statement (see DEFECT-FIX below). */
function bindInputs(args: Args): { positional: BindScalar[]; named: Map<string, BindScalar> } {
  const values = Array.isArray(args.bind_values) ? args.bind_values.map(toBindScalar) : [];
  const params = args.bind_params && typeof args.bind_params === "object"
    ? args.bind_params as Record<string, unknown>
    : {};
  const named = new Map<string, BindScalar>();
  const keys = Object.keys(params);
  const valueOf = (k: string) => {
    const p = params[k];
    return toBindScalar(
      p && typeof p === "object" && "value" in p ? (p as { value: unknown }).value : p,
    );
  };
  for (const k of keys) named.set(bindKey(k), valueOf(k));
  // DEFECT-FIX (contract §3.1): DBIHelper sends bind_param values twice, once in bind_params and
  // once as bind_values in Perl's `sort keys` order. When bind_values is exactly that copy, bind by
  // the bind_param names; otherwise execute's own values win by position, as in DBI.
  const derived = [...keys].sort().map(valueOf);
  const isCopy = keys.length > 0 && values.length === derived.length &&
    values.every((v, i) => v === derived[i]);
  return { positional: isCopy || values.length === 0 ? [] : values, named };
}

function executeStatement(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
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
    const { positional, named } = bindInputs(args);
    const binds = resolveBinds(s.compiled, positional, named, s.outs);
    if (typeof binds === "string") throw new DbFailure(binds);
    const res = await conn.execute(s.compiled.text, binds, { autoCommit: effectiveAutoCommit(c) });
    if (!effectiveAutoCommit(c)) c.dirty = true;
    s.result = res;
    s.executed = true;
    s.outValues = res.outValues;
    s.columnNames = res.columns?.map((col) => col.name) ?? [];
    let rowsAffected = res.rowsAffected;
    if (res.columns) {
      // The Python helper peeks at the first row: rows_affected is 1 when there is data, else 0.
      s.buffer = await res.fetch(1);
      rowsAffected = s.buffer.length > 0 ? 1 : 0;
    }
    s.lastError = null;
    c.lastError = null;
    return {
      success: true,
      rows_affected: rowsAffected,
      column_info: columnInfo(res.columns),
      debug_info:
        `Connection ${s.connId} found in memory - Statement ${args.statement_id} found in memory`,
    };
  });
}

/** Next rows of an executed statement: the peeked rows first, then the driver's. */
async function nextRows(s: StmtState, max: number): Promise<WireValue[][]> {
  if (s.buffer.length === 0 && s.result) {
    s.buffer = await s.result.fetch(Math.max(max, FETCH_BATCH));
  }
  const rows = s.buffer.slice(0, max);
  s.buffer = s.buffer.slice(max);
  return rows;
}

function fetchRow(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
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

function fetchAll(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
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

function doStatement(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  return withConn(ctx, args.connection_id, async (c, native) => {
    if (typeof args.sql !== "string" || args.sql.trim() === "") {
      throw new DbFailure("do needs a non-empty sql string");
    }
    const conn = await native();
    const compiled = compileSql(args.sql, c.driver.placeholder);
    const values = Array.isArray(args.bind_values) ? args.bind_values.map(toBindScalar) : [];
    const binds = resolveBinds(compiled, values, new Map());
    if (typeof binds === "string") throw new DbFailure(binds);
    const res = await conn.execute(compiled.text, binds, { autoCommit: effectiveAutoCommit(c) });
    if (!effectiveAutoCommit(c)) c.dirty = true;
    c.lastError = null;
    try {
      if (!res.columns) return { success: true, rows_affected: res.rowsAffected };
      const rows: WireValue[][] = [];
      for (let b = await res.fetch(FETCH_BATCH); b.length > 0; b = await res.fetch(FETCH_BATCH)) {
        rows.push(...b);
      }
      return {
        success: true,
        rows,
        rows_affected: rows.length,
        column_info: columnInfo(res.columns),
      };
    } finally {
      await res.close();
    }
  });
}

function beginTransaction(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  return withConn(ctx, args.connection_id, (c) => {
    // DBI: begin_work fails when AutoCommit is already off.
    if (!effectiveAutoCommit(c)) throw new DbFailure("Already in a transaction");
    c.inWork = true;
    return Promise.resolve({ success: true });
  });
}

function endTransaction(kind: "commit" | "rollback") {
  return (args: Args, ctx: CallContext) =>
    withConn(ctx, args.connection_id, async (c, native) => {
      if (kind === "rollback" && (c.lostInTxn || c.native?.lost)) {
        // The server already rolled back; the next call opens a new connection.
        await c.native?.close().catch(() => {});
        c.native = undefined;
        c.lostInTxn = undefined;
      } else {
        const conn = await native();
        await conn[kind]();
      }
      c.inWork = false;
      c.dirty = false;
      c.lastError = null;
      return { success: true };
    });
}

async function disconnect(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  const { conns } = tables(ctx);
  const id = args.connection_id;
  if (typeof id === "string" && conns.has(id)) {
    await conns.withLock(id, () => {});
    await conns.delete(id, "disconnect");
  }
  return { success: true };
}

async function finishStatement(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  const { stmts, conns } = tables(ctx);
  const s = stmts.get(args.statement_id);
  if (!s) return { success: true };
  const sid = args.statement_id as string;
  if (conns.has(s.connId)) {
    await conns.withLock(s.connId, (c) => {
      c.statements.delete(sid);
    });
  }
  await stmts.delete(sid, "finish");
  return { success: true };
}

function bindParamInout(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  const sid = args.statement_id;
  return withStmt(ctx, sid, (s) => {
    const raw = args.param_name;
    if (raw === undefined || raw === null || String(raw).trim() === "") {
      throw new DbFailure("bind_param_inout needs a param_name");
    }
    const label = String(raw).trim().replace(/^:/, "");
    const pt = args.param_type;
    const oraType = pt && typeof pt === "object"
      ? Number((pt as Record<string, unknown>).ora_type)
      : Number(pt);
    const spec: OutBindSpec & { label: string } = {
      initial: toBindScalar(args.initial_value),
      size: Number(args.size ?? 4000) || 4000,
      kind: oraType === 112 ? "clob" : oraType === 113 ? "blob" : "string",
      label,
    };
    s.outs.set(bindKey(raw), spec);
    return Promise.resolve({
      success: true,
      message: `OUT/INOUT parameter :${label} bound successfully`,
    });
  }, `Invalid statement ID: ${String(sid)}`);
}

function getOutParams(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  return withStmt(ctx, args.statement_id, (s) => {
    if (!s.executed) throw new DbFailure("Statement not yet executed");
    const out: Record<string, WireValue> = {};
    for (const [key, spec] of s.outs) out[spec.label] = s.outValues[key] ?? null;
    return Promise.resolve({ success: true, out_params: out });
  }, `Invalid statement ID: ${String(args.statement_id)}`);
}

function getConnectionError(args: Args, ctx: CallContext): Record<string, unknown> {
  const c = tables(ctx).conns.get(args.connection_id);
  if (!c) return failure("Invalid connection ID");
  return { success: true, errstr: c.lastError };
}

function getStatementError(args: Args, ctx: CallContext): Record<string, unknown> {
  const s = tables(ctx).stmts.get(args.statement_id);
  if (!s) return failure("Invalid statement ID");
  return { success: true, errstr: s.lastError };
}

/** Builds the helper over a set of drivers (tests swap the Oracle driver for a fake). */
export function createDatabaseHelper(drivers: Drivers): HelperDefinition {
  const connectParams = ["dsn", "username", "password", "options", "db_type", "auth_mode"];
  const doParams = ["connection_id", "sql", "bind_values"];
  return defineHelper({
    name: "database",
    replaces: "DBIHelper.pm (DBI + DBD::Oracle; also DBD::Pg and DBD::SQLite DSNs)",
    functions: {
      connect: fn(connectParams, (a, ctx) => connect(drivers, a, ctx)),
      connect_cached: fn(connectParams, (a, ctx) => connectCached(drivers, a, ctx)),
      prepare: fn(["connection_id", "sql"], prepare),
      execute_statement: fn(
        ["connection_id", "statement_id", "bind_values", "bind_params"],
        executeStatement,
      ),
      fetch_row: fn(["connection_id", "statement_id", "format"], fetchRow),
      fetch_all: fn(["connection_id", "statement_id", "format"], fetchAll),
      do_statement: fn(doParams, doStatement),
      execute_immediate: fn(doParams, doStatement),
      begin_transaction: fn(["connection_id"], beginTransaction),
      commit: fn(["connection_id"], endTransaction("commit")),
      rollback: fn(["connection_id"], endTransaction("rollback")),
      disconnect: fn(["connection_id"], disconnect),
      finish_statement: fn(["connection_id", "statement_id"], finishStatement),
      bind_param_inout: fn(
        ["statement_id", "param_name", "initial_value", "size", "param_type"],
        bindParamInout,
      ),
      get_out_params: fn(["statement_id"], getOutParams),
      get_connection_error: fn(["connection_id"], getConnectionError),
      get_statement_error: fn(["statement_id"], getStatementError),
    },
  });
}

/** The `database` helper with the production drivers. */
export const databaseHelper: HelperDefinition = createDatabaseHelper({
  oracle: oracleDriver,
  pg: postgresDriver,
  sqlite: sqliteDriver,
});
