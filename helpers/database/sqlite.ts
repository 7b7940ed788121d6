/**
 * @module
 * SQLite driver on `node:sqlite` (`DatabaseSync`), answering as DBD::SQLite 1.72 does without
 * `sqlite_unicode`: binds are TEXT holding the Perl string's bytes (`perlBytes`, see
 * `sqlite_binds.ts`), SQL_BLOB binds are BLOBs, SQL_INTEGER/SQL_DOUBLE binds numbers; TEXT and
 * BLOB results come back as their bytes (`bytesToPerl`), integers in full, reals as Perl prints
 * them ("0.3"). Statements compile at prepare, so bad SQL fails there. Counts follow DBD::SQLite:
 * a query's execute says "0E0", DML the rows changed, and a `do` without bind values (which
 * DBD::SQLite runs through sqlite3_exec) SQLite's changes() of the last DML. Column types are the
 * declared types. AutoCommit off opens a transaction before the first statement. The file name is
 * resolved against the caller's cwd.
 */

import type {
  BoundValue,
  ColumnMeta,
  ConnectRequest,
  Driver,
  DriverConnection,
  DriverResult,
  ExecOptions,
  SqlTemplate,
  WireValue,
} from "./driver.ts";
import { bufferedResult, messageOf } from "./driver.ts";
import { bindSql, readSql, sqliteArgs, sqliteBind, sqliteResult } from "./sqlite_binds.ts";
import { attachRule } from "./sqlite_attach.ts";
import { bytesToPerl, perlText } from "../types.ts";

const utf8 = new TextEncoder();

type SqliteModule = typeof import("node:sqlite");
type Database = InstanceType<SqliteModule["DatabaseSync"]>;
type Statement = ReturnType<Database["prepare"]>;

/** SQLite's message for SQLITE_CANTOPEN, which node:sqlite follows with ": <path>". */
const CANTOPEN = "unable to open database file";

/** SQLite's authorizer codes (sqlite3.h; node:sqlite's `constants` lacks them in Deno's types). */
const SQLITE_OK = 0;
const SQLITE_DENY = 1;
const SQLITE_ATTACH = 24;

/** How long a statement waits for another connection's write lock (DBD::SQLite: 30 s). */
const BUSY_WAIT_MS = 30_000;

/** setReturnArrays exists at runtime (Node 24 API) but not in Deno's type declarations. */
function arrays(stmt: Statement): Statement {
  (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  stmt.setReadBigInts(true);
  return stmt;
}

/**
 * DBD::SQLite's rule for "this statement opens a transaction itself" (then AutoCommit off issues
 * no BEGIN first): after blanks and `--` comments (not block comments) it starts with BEGIN or
 * SAVEPOINT, in any case.
 */
export function startsTransaction(sql: string): boolean {
  const rest = sql.replace(/^(?:[ \t\n\r\f\v]+|--[^\n]*(?:\n|$))*/, "");
  return /^(?:begin|savepoint)/i.test(rest);
}

class SqliteConnection implements DriverConnection {
  readonly #handle: Database;
  /** Set until the database is opened and set up (an in-memory one waits for its first use). */
  #setup: ((db: Database) => void) | undefined;
  lost: string | undefined;
  /** Why the authorizer refused the last ATTACH, for the error text. */
  refusal: { reason?: string } = {};

  /** `setup` runs once, when the database is opened (at once unless `db` was made unopened). */
  constructor(db: Database, setup: (db: Database) => void) {
    this.#handle = db;
    this.#setup = setup;
    if (db.isOpen) this.#open();
  }

  /** False while an in-memory database waits for its first statement. */
  get opened(): boolean {
    return this.#setup === undefined;
  }

  /** The database, opened and set up first if it waited. */
  get #db(): Database {
    return this.#setup ? this.#open() : this.#handle;
  }

  #open(): Database {
    const setup = this.#setup!;
    this.#setup = undefined;
    if (!this.#handle.isOpen) this.#handle.open();
    setup(this.#handle);
    return this.#handle;
  }

  /** The statement SQLite prepares of `sql` (sqlite3_sql: up to its ";"), as a Perl string. */
  firstStatement(sql: string): string {
    if (this.lost) return sql;
    const text = perlText(sql);
    let first: string;
    try {
      first = (this.#db.prepare(text) as unknown as { sourceSQL: string }).sourceSQL;
    } catch {
      return sql;
    }
    if (first === text || !text.startsWith(first)) return sql;
    const prefix = text === sql
      ? sql.slice(0, first.length)
      : sql.slice(0, utf8.encode(first).length);
    return perlText(prefix) === first ? prefix : sql;
  }

  /** `e` with the path guard's reason when the authorizer refused a file. */
  #explained(e: unknown): unknown {
    const reason = this.refusal.reason;
    this.refusal = {};
    if (!reason || !/not authorized|authorization denied/.test(messageOf(e))) return e;
    return Object.assign(new Error(`${messageOf(e)}: ${reason}`), {
      errcode: (e as { errcode?: number }).errcode,
    });
  }

  isConnectionError(): boolean {
    return this.lost !== undefined;
  }

  check(sql: string, template?: SqlTemplate): Promise<void> {
    if (this.lost) return Promise.reject(new Error(`database is closed (${this.lost})`));
    try {
      this.#db.prepare(perlText(template ? bindSql(template, [], true) : sql));
    } catch (e) {
      return Promise.reject(this.#explained(e));
    }
    return Promise.resolve();
  }

  /**
   * Runs the statement, retrying while another connection holds the write lock. The wait is
   * asynchronous (busy_timeout would block the helper thread), up to DBD::SQLite's 30 s.
   */
  async execute(
    sql: string,
    binds: readonly BoundValue[],
    opts: ExecOptions,
  ): Promise<DriverResult> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (let pause = 2;; pause = Math.min(pause * 2, 100)) {
      try {
        return this.#execute(sql, binds, opts);
      } catch (e) {
        if ((e as { errcode?: number }).errcode !== 5 && !/database is locked/.test(messageOf(e))) {
          throw this.#explained(e);
        }
        if (Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  #execute(sql: string, binds: readonly BoundValue[], opts: ExecOptions): DriverResult {
    if (this.lost) throw new Error(`database is closed (${this.lost})`);
    const values = binds.map(sqliteBind);
    const args = sqliteArgs(opts.template, values) as Parameters<Statement["all"]>;
    // DBD::SQLite hands SQLite the statement's bytes; node:sqlite takes text and encodes it as
    // UTF-8, so a byte string goes in decoded (exact whenever it is UTF-8, as nearly all are).
    // The statement as written (`?` kept) first: its errors, column names and declared types
    // are DBD::SQLite's; then, if a value needs it, the one with TEXT casts that runs.
    const plain = perlText(opts.template ? bindSql(opts.template, values, true) : sql);
    const written = this.#db.prepare(plain);
    // AutoCommit off: DBD::SQLite opens BEGIN IMMEDIATE (sqlite_use_immediate_transaction, on by
    // default) before a statement, unless the statement opens a transaction itself.
    if (!opts.autoCommit && !this.#db.isTransaction && !startsTransaction(plain)) {
      this.#db.exec("BEGIN IMMEDIATE TRANSACTION");
    }
    const cols = written.columns();
    const text = opts.template ? perlText(bindSql(opts.template, values)) : plain;
    const stmt = text === plain ? written : this.#db.prepare(text);
    if (cols.length === 0) {
      const changes = Number(stmt.run(...args).changes);
      return bufferedResult(null, changes, [], binds);
    }
    let rows: WireValue[][];
    const wrapped = this.#prepareOrUndefined(readSql(text, cols.length));
    if (wrapped) {
      const raw = arrays(wrapped).all(...args) as unknown as unknown[][];
      rows = raw.map((r) => cols.map((_, i) => sqliteResult(r[2 * i], r[2 * i + 1])));
    } else {
      // Not wrappable (PRAGMA, RETURNING…): text comes back through node:sqlite's UTF-8 decoding.
      const raw = arrays(stmt).all(...args) as unknown as unknown[][];
      rows = raw.map((r) => r.map((v) => sqliteResult(v, undefined)));
    }
    // DBD::SQLite: execute of a query says "0E0"; do without binds (sqlite3_exec) says changes().
    const count = opts.mode === "do" && opts.viaExec
      ? Number((this.#db.prepare("SELECT changes()").get() as Record<string, unknown>)["changes()"])
      : 0;
    return bufferedResult(cols.map(columnOf), count, rows, binds);
  }

  #prepareOrUndefined(sql: string): Statement | undefined {
    try {
      return this.#db.prepare(sql);
    } catch {
      return undefined;
    }
  }

  // A database not yet opened has no transaction, and answers a ping: nothing to open it for.
  commit(): Promise<void> {
    if (this.opened && this.#db.isTransaction) this.#db.exec("COMMIT");
    return Promise.resolve();
  }

  rollback(): Promise<void> {
    if (this.opened && this.#db.isTransaction) this.#db.exec("ROLLBACK");
    return Promise.resolve();
  }

  ping(): Promise<void> {
    if (this.lost) return Promise.reject(new Error(this.lost));
    if (this.opened) this.#db.prepare("SELECT 1").get();
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.lost) {
      this.lost = "closed";
      if (this.opened) this.#handle.close();
      this.#setup = undefined;
    }
    return Promise.resolve();
  }
}

/** Column metadata; the name is bytes, as DBD::SQLite's NAME is. */
function columnOf(c: { name: string; type: string | null }): ColumnMeta {
  return {
    name: bytesToPerl(utf8.encode(c.name)),
    type: c.type ?? null,
    type_code: null,
    display_size: null,
    internal_size: null,
    precision: null,
    scale: null,
    nullable: null,
  };
}

/** The SQLite driver. */
export const sqliteDriver: Driver = {
  dbType: "sqlite",
  dialect: "sqlite",
  doIgnoresExtraBinds: true,
  // Only for texts without a template; executions render each placeholder as written.
  placeholder: (ordinal) => `?${ordinal}`,
  async connect(req: ConnectRequest): Promise<DriverConnection> {
    if (req.dsn.driver !== "sqlite") throw new TypeError("not a SQLite DSN");
    const { DatabaseSync } = await import("node:sqlite");
    // An in-memory database cannot fail to open, so it is opened at its first statement: a
    // connection a script makes and never uses (or never closes) costs 5 KB instead of ~70 KB.
    const memory = req.dsn.path === ":memory:";
    const path = memory ? ":memory:" : await req.resolvePath(req.dsn.path);
    // ATTACH and VACUUM INTO open files the DSN check never saw: the authorizer holds each to
    // the same path rules (SQLite asks it for ATTACH at prepare and for VACUUM INTO's own).
    const allowed = req.paths
      ? attachRule(req.paths, (await req.callerCwd?.()) ?? Deno.cwd(), Deno.cwd())
      : undefined;
    const conn: SqliteConnection = new SqliteConnection(
      new DatabaseSync(path, { open: !memory }),
      (db) => {
        db.exec("PRAGMA busy_timeout = 0");
        if (!allowed) return;
        const authorize = (db as unknown as {
          setAuthorizer(cb: (action: number, file: string | null) => number): void;
        }).setAuthorizer.bind(db);
        authorize((action, file) => {
          if (action !== SQLITE_ATTACH) return SQLITE_OK;
          const reason = allowed(file);
          if (reason === undefined) return SQLITE_OK;
          conn.refusal = { reason };
          return SQLITE_DENY;
        });
      },
    );
    return conn;
  },
  errorText: (err: unknown) => messageOf(err),
  // DBI->connect's errstr is SQLite's own text ("unable to open database file"); node:sqlite
  // appends the path to that one.
  connectErrorText(err: unknown): string {
    const m = messageOf(err);
    return m.startsWith(CANTOPEN) ? CANTOPEN : m;
  },
};
