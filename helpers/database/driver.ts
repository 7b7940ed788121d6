/**
 * @module
 * The narrow seam between the `database` wire functions and a database client library. A
 * `Driver` opens `DriverConnection`s; a connection executes one statement at a time (the caller
 * holds the connection's lock) and returns a `DriverResult` whose values are already converted to
 * what DBD::Oracle hands Perl: strings, or null for NULL. Drivers: Oracle (`oracledb` thin mode),
 * PostgreSQL (`pg`), SQLite (`node:sqlite`).
 */

import type { Dsn } from "./dsn.ts";
import type { SqlDialect } from "./sql.ts";
import type { PathGuard } from "../types.ts";

/** A value as Perl sees it after a fetch: a string, undef, or an array ref (PostgreSQL arrays). */
export type WireValue = string | null | WireValue[];

/** A value Perl sent to bind: JSON scalars (booleans arrive as JSON::PP booleans). */
export type BindScalar = string | number | boolean | null;

/** Column metadata in the shape of the Python helper's `column_info.columns[]`. */
export interface ColumnMeta {
  readonly name: string;
  /** Type name, e.g. VARCHAR2 / NUMBER (Oracle), integer / text (PostgreSQL), the declared type (SQLite). */
  readonly type: string | null;
  /** The driver's own type code (Oracle DbType number, PostgreSQL OID), or null. */
  readonly type_code: number | null;
  readonly display_size: number | null;
  readonly internal_size: number | null;
  readonly precision: number | null;
  readonly scale: number | null;
  readonly nullable: boolean | null;
}

/** Kind of an OUT/INOUT bind (`bind_param_inout` `param_type.ora_type`: 112 CLOB, 113 BLOB). */
export type OutKind = "string" | "clob" | "blob";

/** bind_param attributes: DBI's `SQL_*` type code, DBD::Pg's `pg_type`, DBD::Oracle's `ora_type`. */
export interface BindAttr {
  readonly sqlType?: number;
  readonly pgType?: number;
  readonly oraType?: number;
}

/** DBI `SQL_*` type codes that mean binary data (SQL_BLOB, SQL_BINARY, SQL_VARBINARY, SQL_LONGVARBINARY). */
export const SQL_BINARY_TYPES: ReadonlySet<number> = new Set([30, -2, -3, -4]);

/** A statement's text around its placeholders: `parts[0] ?ordinals[0] parts[1] …`. */
export interface SqlTemplate {
  readonly parts: readonly string[];
  readonly ordinals: readonly number[];
  /** Each placeholder as written: "?", ":1", ":name". */
  readonly sources: readonly string[];
  /** SQLite: each placeholder's parameter index (`?NNN` renders it explicitly). */
  readonly indexes?: readonly number[];
}

/** One value bound to one distinct placeholder, in placeholder order. */
export interface BoundValue {
  /** The placeholder's key: "1", "2"… for `?`/`:1`, the name (without colon) for `:name`. */
  readonly key: string;
  readonly value: BindScalar;
  /** The bind_param attributes given for this placeholder, if any. */
  readonly attr?: BindAttr;
  /** Set for OUT/INOUT binds. */
  readonly out?: { readonly size: number; readonly kind: OutKind };
}

/** What an executed statement gives back. */
export interface DriverResult {
  /** Columns of a row-returning statement, else null. */
  readonly columns: readonly ColumnMeta[] | null;
  /**
   * The count DBI gives for this statement (`$sth->execute`, or `$dbh->do` when `ExecOptions.mode`
   * is "do"), 0 where DBI says "0E0": rows changed by DML; for queries what the DBD reports at
   * execute (DBD::Pg: all rows, DBD::SQLite and DBD::Oracle: 0).
   */
  readonly rowsAffected: number;
  /** Up to `max` further rows; an empty array at the end. */
  fetch(max: number): Promise<WireValue[][]>;
  /** Values of OUT/INOUT binds by key. */
  readonly outValues: Readonly<Record<string, WireValue>>;
  close(): Promise<void>;
}

/**
 * A result whose rows are all in memory already (PostgreSQL and SQLite read them at execute).
 * OUT/INOUT binds take the columns of the first row in order, as DBD::Pg's bind_param_inout does.
 */
export function bufferedResult(
  columns: readonly ColumnMeta[] | null,
  rowsAffected: number,
  allRows: WireValue[][],
  binds: readonly BoundValue[],
): DriverResult {
  let rows = allRows;
  const first = rows[0] ?? [];
  const outValues: Record<string, WireValue> = {};
  let outIndex = 0;
  for (const b of binds) if (b.out) outValues[b.key] = first[outIndex++] ?? null;
  return {
    columns,
    rowsAffected,
    outValues,
    fetch: (max: number) => {
      const batch = rows.slice(0, max);
      rows = rows.slice(max);
      return Promise.resolve(batch);
    },
    close: () => {
      rows = [];
      return Promise.resolve();
    },
  };
}

/** Options of one execution. */
export interface ExecOptions {
  /** Commit after the statement (DBI AutoCommit on and no begin_work in progress). */
  readonly autoCommit: boolean;
  /** `$dbh->do` (counts as the DBD's do does) or `$sth->execute` (the default). */
  readonly mode?: "do" | "execute";
  /** The statement around its placeholders, for a driver that renders them per execution. */
  readonly template?: SqlTemplate;
  /**
   * `$dbh->do` without bind values of a statement without ";", which DBD::SQLite runs through
   * sqlite3_exec (its count is SQLite's changes(), even for a query).
   */
  readonly viaExec?: boolean;
}

/** An open connection. Calls never overlap: the helper serialises them per connection. */
export interface DriverConnection {
  execute(sql: string, binds: readonly BoundValue[], opts: ExecOptions): Promise<DriverResult>;
  /**
   * Compiles `sql` without running it, where the DBD does so at prepare (DBD::SQLite); rejects
   * with the driver's error for bad SQL. Absent when the DBD defers to execute (DBD::Pg).
   */
  check?(sql: string, template?: SqlTemplate): Promise<void>;
  /**
   * The part of `sql` the DBD prepares, where it prepares only the first statement (DBD::SQLite:
   * the rest is ignored); `sql` itself when it cannot tell (bad SQL fails later, as it should).
   */
  firstStatement?(sql: string): string;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Cheap liveness check (Oracle `SELECT 1 FROM DUAL`); rejects when the connection is dead. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Set once the server or network dropped the connection: the reason, e.g. "terminated by administrator". */
  readonly lost: string | undefined;
  /** True when `err` (from this connection) means the connection itself is gone. */
  isConnectionError(err: unknown): boolean;
}

/** Credentials and options of a connect call. The password is never logged or echoed. */
export interface ConnectRequest {
  readonly dsn: Dsn;
  readonly username: string;
  readonly password: string;
  /** Kerberos / external authentication (Oracle only). */
  readonly externalAuth: boolean;
  /** Resolves a relative file name against the caller's cwd (SQLite). */
  readonly resolvePath: (p: string) => Promise<string>;
  /** A variable of the caller's environment (PGHOST, TNS_ADMIN…). */
  readonly env: (name: string) => Promise<string | undefined>;
  /**
   * The path rules (CPAN_BRIDGE_ALLOWED_PATHS, the daemon's own files) for files the database
   * opens by itself later (SQLite ATTACH, VACUUM INTO); absent when none apply.
   */
  readonly paths?: PathGuard | undefined;
  /** The caller's working directory. */
  readonly callerCwd?: (() => Promise<string>) | undefined;
}

/** A database client library behind the seam. */
export interface Driver {
  /** `db_type` reported to Perl: "oracle", "postgresql" or "sqlite". */
  readonly dbType: string;
  /**
   * `$dbh->do` binds only as many values as the statement has placeholders and ignores the rest
   * (DBD::SQLite's do); otherwise extra values are an error, as in DBI's own do.
   */
  readonly doIgnoresExtraBinds?: boolean;
  /** How the database spells placeholders and quotes identifiers (see `compileSql`). */
  readonly dialect?: SqlDialect;
  /** Renders placeholder number `ordinal` (1-based) with key `key` in this database's syntax. */
  placeholder(ordinal: number, key: string): string;
  /** Opens a connection; rejects with the library's error on failure. */
  connect(req: ConnectRequest): Promise<DriverConnection>;
  /** The text Perl sees for an error from this driver (DBI errstr style). */
  errorText(err: unknown): string;
  /**
   * The text of a failed connect as `$DBI::errstr` shows it. Without it the helper reports
   * "Cannot connect to <target>: <errorText>".
   */
  connectErrorText?(err: unknown, req: ConnectRequest): string;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
