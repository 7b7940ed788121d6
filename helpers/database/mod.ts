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
import { type Drivers, type Reply, withConn, withStmt } from "./calls.ts";
import { connect, connectCached } from "./connect.ts";
import type { WireValue } from "./driver.ts";
import { oracleDriver } from "./oracle.ts";
import { postgresDriver } from "./postgres.ts";
import { bindKey, type OutBindSpec, toBindScalar } from "./sql.ts";
import { sqliteDriver } from "./sqlite.ts";
import { DbFailure, effectiveAutoCommit, tables } from "./session.ts";
import { doStatement, executeStatement, fetchAll, fetchRow, prepare } from "./statements.ts";

export type { Drivers } from "./calls.ts";

function beginTransaction(args: Args, ctx: CallContext): Promise<Reply> {
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

async function disconnect(args: Args, ctx: CallContext): Promise<Reply> {
  const { conns } = tables(ctx);
  const id = args.connection_id;
  if (typeof id === "string" && conns.has(id)) {
    await conns.withLock(id, () => {});
    await conns.delete(id, "disconnect");
  }
  return { success: true };
}

async function finishStatement(args: Args, ctx: CallContext): Promise<Reply> {
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

function bindParamInout(args: Args, ctx: CallContext): Promise<Reply> {
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

function getOutParams(args: Args, ctx: CallContext): Promise<Reply> {
  return withStmt(ctx, args.statement_id, (s) => {
    if (!s.executed) throw new DbFailure("Statement not yet executed");
    const out: Record<string, WireValue> = {};
    for (const [key, spec] of s.outs) out[spec.label] = s.outValues[key] ?? null;
    return Promise.resolve({ success: true, out_params: out });
  }, `Invalid statement ID: ${String(args.statement_id)}`);
}

function getConnectionError(args: Args, ctx: CallContext): Reply {
  const c = tables(ctx).conns.get(args.connection_id);
  if (!c) return failure("Invalid connection ID");
  return { success: true, errstr: c.lastError };
}

function getStatementError(args: Args, ctx: CallContext): Reply {
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
