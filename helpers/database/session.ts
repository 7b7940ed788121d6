/**
 * @module
 * Connection and statement state of the `database` helper, kept in the daemon's handle tables
 * (idle TTL 1,800 s, the Python helper's persistence limit). Every call on a connection, and on
 * its statements, runs under that connection's lock, so one connection never sees two commands
 * at once. A connection the server dropped is re-opened on the next call, unless it held
 * uncommitted work: then calls fail until the script calls rollback (or reconnects), so work is
 * never half-committed across a reconnect.
 */

import type { CallContext } from "../types.ts";
import type { HandleTable } from "../types.ts";
import type {
  ConnectRequest,
  Driver,
  DriverConnection,
  DriverResult,
  WireValue,
} from "./driver.ts";
import { messageOf } from "./driver.ts";
import type { CompiledSql, OutBindSpec } from "./sql.ts";

/** Idle limit of connection and statement handles (Python: 1,800 s persistence). */
export const DB_IDLE_TTL_MS = 1_800_000;
/** Idle limit of connect_cached entries (Python: 600 s), and their maximum number. */
export const CACHE_IDLE_TTL_MS = 600_000;
export const CACHE_MAX = 50;

/** One DBI database handle. */
export interface ConnState {
  readonly driver: Driver;
  readonly req: ConnectRequest;
  native: DriverConnection | undefined;
  /** The DBI AutoCommit attribute given at connect. */
  readonly autoCommit: boolean;
  readonly raiseError: boolean;
  readonly printError: boolean;
  readonly authMode: string;
  /** begin_work in progress: AutoCommit off until commit/rollback. */
  inWork: boolean;
  /** Statements executed since the last commit/rollback with AutoCommit off. */
  dirty: boolean;
  /** Set when the connection was lost while it held uncommitted work. */
  lostInTxn: string | undefined;
  lastError: string | null;
  readonly statements: Set<string>;
  /** Loggable target, e.g. "pg cbtest@127.0.0.1:5432" (never credentials). */
  readonly label: string;
}

/** One DBI statement handle. */
export interface StmtState {
  readonly connId: string;
  readonly sql: string;
  readonly compiled: CompiledSql;
  result: DriverResult | undefined;
  executed: boolean;
  finished: boolean;
  /** Rows fetched from the driver but not yet handed to Perl (the execute peek). */
  buffer: WireValue[][];
  columnNames: string[];
  /** bind_param_inout registrations by placeholder key, with the name Perl used. */
  readonly outs: Map<string, OutBindSpec & { readonly label: string }>;
  outValues: Record<string, WireValue>;
  lastError: string | null;
}

/** The value of a connect_cached entry. */
export interface CacheEntry {
  readonly connectionId: string;
}

/** The helper's three handle tables. */
export interface Tables {
  readonly conns: HandleTable<ConnState>;
  readonly stmts: HandleTable<StmtState>;
  readonly cache: HandleTable<CacheEntry>;
}

/** The handle tables of this daemon (created on first use). */
export function tables(ctx: CallContext): Tables {
  const stmts = ctx.handles<StmtState>("statements", {
    prefix: "dbstmt",
    perClient: false, // bounded by the connections that own them
    idleTtlMs: DB_IDLE_TTL_MS,
    newId: () => crypto.randomUUID(),
    dispose: async (s) => {
      await s.result?.close().catch(() => {});
    },
  });
  const conns = ctx.handles<ConnState>("connections", {
    prefix: "dbconn",
    idleTtlMs: DB_IDLE_TTL_MS,
    newId: () => crypto.randomUUID(),
    dispose: async (c, reason) => {
      for (const sid of c.statements) await stmts.delete(sid, reason);
      await c.native?.close().catch(() => {});
      ctx.log.info(`database: closed connection to ${c.label} (${reason})`);
    },
  });
  const cache = ctx.handles<CacheEntry>("connect_cached", {
    prefix: "dbcache",
    idleTtlMs: CACHE_IDLE_TTL_MS,
  });
  return { conns, stmts, cache };
}

/** Removes the password from a text that came back from a driver or server. */
export function scrub(text: string, password: string): string {
  let t = text.replace(/(password\s*=\s*)[^;)\s]+/gi, "$1***");
  if (password.length >= 4) t = t.split(password).join("***");
  return t;
}

/** An expected failure carried through `withConn`. */
export class DbFailure {
  constructor(readonly error: string) {}
}

/** AutoCommit as the driver should apply it now. */
export function effectiveAutoCommit(c: ConnState): boolean {
  return c.autoCommit && !c.inWork;
}

/**
 * Drops a connection the server or network closed and says what happens next. With uncommitted
 * work the handle refuses further calls until rollback; otherwise the next call reconnects. The
 * loss is always reported once, since session settings (ALTER SESSION…) do not survive it.
 */
async function dropLost(c: ConnState, native: DriverConnection, reason: string): Promise<string> {
  const hadWork = c.dirty || c.inWork;
  await native.close().catch(() => {});
  if (c.native === native) c.native = undefined;
  if (hadWork) {
    c.lostInTxn = reason;
    return `Database connection lost: ${reason}. Uncommitted work was rolled back by the server; ` +
      "call rollback to continue on a new connection.";
  }
  return `Database connection lost: ${reason}. The next call on this handle reconnects ` +
    "(session settings such as ALTER SESSION must be applied again).";
}

/** The open driver connection; re-opens one that was dropped and already reported. */
export async function ensureNative(ctx: CallContext, c: ConnState): Promise<DriverConnection> {
  if (c.lostInTxn) {
    throw new DbFailure(
      `Database connection lost with uncommitted work (${c.lostInTxn}); the server rolled the transaction back. ` +
        "Call rollback to continue on a new connection, or disconnect and connect again.",
    );
  }
  if (c.native?.lost) {
    throw new DbFailure(await dropLost(c, c.native, scrub(c.native.lost, c.req.password)));
  }
  if (c.native) return c.native;
  try {
    c.native = await c.driver.connect(c.req);
    ctx.log.info(`database: reconnected to ${c.label}`);
    return c.native;
  } catch (e) {
    throw new DbFailure(
      `Database connection lost and reconnecting to ${c.label} failed: ${
        scrub(c.driver.errorText(e), c.req.password)
      }`,
    );
  }
}

/**
 * The error text for `err` from `native`. When the connection itself is gone it is dropped, so
 * the next call reconnects (or, with uncommitted work, asks for a rollback).
 */
export async function failureText(
  c: ConnState,
  native: DriverConnection | undefined,
  err: unknown,
): Promise<string> {
  if (err instanceof DbFailure) return err.error;
  const text = scrub(c.driver.errorText(err), c.req.password);
  if (native && native.isConnectionError(err)) return await dropLost(c, native, text);
  return text || messageOf(err);
}
