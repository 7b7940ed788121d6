/**
 * @module
 * SQLite driver on `node:sqlite` (`DatabaseSync`). Integers are read as BigInt so none lose
 * precision, and every value reaches Perl as a string (blobs as upper-case hex). Column types are
 * the declared types, as DBD::SQLite reports them. AutoCommit off opens a transaction before the
 * first statement. The file name is resolved against the caller's cwd.
 */

import type {
  BindScalar,
  BoundValue,
  ColumnMeta,
  ConnectRequest,
  Driver,
  DriverConnection,
  DriverResult,
  WireValue,
} from "./driver.ts";
import { bufferedResult, hexOf, messageOf } from "./driver.ts";

type SqliteModule = typeof import("node:sqlite");
type Database = InstanceType<SqliteModule["DatabaseSync"]>;

/** How long a statement waits for another connection's write lock (DBD::SQLite: 30 s). */
const BUSY_WAIT_MS = 30_000;

function wireOf(v: unknown): WireValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return hexOf(v);
  return String(v);
}

function bindOf(v: BindScalar): string | number | bigint | null {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}

class SqliteConnection implements DriverConnection {
  #db: Database;
  lost: string | undefined;

  constructor(db: Database) {
    this.#db = db;
  }

  isConnectionError(): boolean {
    return this.lost !== undefined;
  }

  /**
   * Runs the statement, retrying while another connection holds the write lock. The wait is
   * asynchronous (busy_timeout would block the helper thread), up to DBD::SQLite's 30 s.
   */
  async execute(
    sql: string,
    binds: readonly BoundValue[],
    opts: { autoCommit: boolean },
  ): Promise<DriverResult> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (let pause = 2;; pause = Math.min(pause * 2, 100)) {
      try {
        return this.#execute(sql, binds, opts);
      } catch (e) {
        if ((e as { errcode?: number }).errcode !== 5 && !/database is locked/.test(messageOf(e))) {
          throw e;
        }
        if (Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  #execute(sql: string, binds: readonly BoundValue[], opts: { autoCommit: boolean }): DriverResult {
    if (this.lost) throw new Error(`database is closed (${this.lost})`);
    if (!opts.autoCommit && !this.#db.isTransaction) this.#db.exec("BEGIN");
    const stmt = this.#db.prepare(sql);
    const values = binds.map((b) => bindOf(b.value));
    const cols = stmt.columns();
    let rows: WireValue[][] = [];
    let changes = 0;
    if (cols.length > 0) {
      stmt.setReadBigInts(true);
      // setReturnArrays exists at runtime (Node 24 API) but not in Deno's type declarations.
      (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      rows = (stmt.all(...values) as unknown as unknown[][]).map((r) => r.map(wireOf));
    } else {
      changes = Number(stmt.run(...values).changes);
    }
    const columns: ColumnMeta[] | null = cols.length > 0
      ? cols.map((c) => ({
        name: c.name,
        type: c.type ?? null,
        type_code: null,
        display_size: null,
        internal_size: null,
        precision: null,
        scale: null,
        nullable: null,
      }))
      : null;
    return bufferedResult(columns, changes, rows, binds);
  }

  commit(): Promise<void> {
    if (this.#db.isTransaction) this.#db.exec("COMMIT");
    return Promise.resolve();
  }

  rollback(): Promise<void> {
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    return Promise.resolve();
  }

  ping(): Promise<void> {
    if (this.lost) return Promise.reject(new Error(this.lost));
    this.#db.prepare("SELECT 1").get();
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.lost) {
      this.lost = "closed";
      this.#db.close();
    }
    return Promise.resolve();
  }
}

/** The SQLite driver. */
export const sqliteDriver: Driver = {
  dbType: "sqlite",
  placeholder: (ordinal) => `?${ordinal}`,
  async connect(req: ConnectRequest): Promise<DriverConnection> {
    if (req.dsn.driver !== "sqlite") throw new TypeError("not a SQLite DSN");
    const { DatabaseSync } = await import("node:sqlite");
    const path = req.dsn.path === ":memory:" ? ":memory:" : await req.resolvePath(req.dsn.path);
    const db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 0");
    return new SqliteConnection(db);
  },
  errorText: (err: unknown) => messageOf(err),
};
